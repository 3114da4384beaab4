# profile_updated.tpl: the profile_updated notification (format: README.md)
# data.fields: the names of the changed fields, never their values.  A
# notice, not a security-critical one: List-Unsubscribe.

subject: Your profile was updated
var: name text = there
var: fields text
to-name: name
list-unsubscribe: yes

--- text
Hi {{name}},

The profile of your account was just updated: {{fields}}.

If you did not do this, change your password now and contact support.

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your profile was updated</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">The profile of your account was just updated: {{fields}}.</p>
<p style="margin:0 0 16px;">If you did not do this, change your password now and contact support.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">You get this message because the profile of your account changed.</p>
</td></tr>
</table>
</body>
</html>

--- sms
Your profile was updated ({{fields}}). If this was not you, change your password now.
