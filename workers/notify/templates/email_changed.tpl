# email_changed.tpl: the email_changed notification (format: README.md)
# To the old address, once the new one is confirmed with its code.

subject: Your email address was changed
var: name text = there
var: new_email text
to-name: name
list-unsubscribe: no

--- text
Hi {{name}},

The email address of your account was just changed to
{{new_email}}. This address no longer signs in to it.

If you did not do this, contact support now.

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your email address was changed</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">The email address of your account was just changed to <strong>{{new_email}}</strong>. This address no longer signs in to it.</p>
<p style="margin:0 0 16px;">If you did not do this, contact support now.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">This message was sent automatically; replies are not read.</p>
</td></tr>
</table>
</body>
</html>

--- sms
The email address of your account was changed. If this was not you, contact support now.
