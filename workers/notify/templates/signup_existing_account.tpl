# signup_existing_account.tpl: the signup_existing_account notification (format: README.md)
# To an address that already has an account, instead of a code.

subject: Someone tried to sign up with your email address
var: name text = there
to-name: name
list-unsubscribe: no

--- text
Hi {{name}},

Someone, hopefully you, tried to create a new account with this
email address. You already have an account, so no new one was made.

If it was you, sign in instead, or reset your password if you have
forgotten it. If it was not you, you can ignore this email: your
account has not been changed.

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Someone tried to sign up with your email address</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">Someone, hopefully you, tried to create a new account with this email address. You already have an account, so no new one was made.</p>
<p style="margin:0 0 16px;">If it was you, sign in instead, or reset your password if you have forgotten it. If it was not you, you can ignore this email: your account has not been changed.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">This message was sent automatically; replies are not read.</p>
</td></tr>
</table>
</body>
</html>

--- sms
Someone tried to sign up with your phone number. You already have an account: sign in or reset your password.
