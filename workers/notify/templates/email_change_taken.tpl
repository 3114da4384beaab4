# email_change_taken.tpl: the email_change_taken notification (format: README.md)
# To an address asked for as a new one that already has an account:
# instead of a code, and nothing about who asked.

subject: Someone tried to use your email address
var: name text = there
to-name: name
list-unsubscribe: no

--- text
Hi {{name}},

Someone, maybe you, asked to move another account to this email
address. It already belongs to your account, so nothing was changed
and no code was sent.

If it was not you, you can ignore this email.

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Someone tried to use your email address</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">Someone, maybe you, asked to move another account to this email address. It already belongs to your account, so nothing was changed and no code was sent.</p>
<p style="margin:0 0 16px;">If it was not you, you can ignore this email.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">This message was sent automatically; replies are not read.</p>
</td></tr>
</table>
</body>
</html>

--- sms
Someone asked to move another account to your email address. Nothing was changed.
