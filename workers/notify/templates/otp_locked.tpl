# otp_locked.tpl: the otp_locked notification (format: README.md)
# data.what is the kind of code (lib/otplock.h), named in our own words.

subject: Too many wrong codes
var: name text = there
var: what choice =
to-name: name
list-unsubscribe: no

--- text
Hi {{name}},

Too many wrong {{what}} codes were entered for this address. For
your protection no such code is sent or accepted for up to 24
hours.

If it was not you, someone may be trying to get into your account;
nothing has been changed. You do not need to do anything.

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Too many wrong codes</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">Too many wrong {{what}} codes were entered for this address. For your protection no such code is sent or accepted for up to 24 hours.</p>
<p style="margin:0 0 16px;">If it was not you, someone may be trying to get into your account; nothing has been changed. You do not need to do anything.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">This message was sent automatically; replies are not read.</p>
</td></tr>
</table>
</body>
</html>

--- sms
Too many wrong codes were entered for your account; no code is sent or accepted for up to 24 hours.

--- choice what signup
verification

--- choice what password_reset
password reset

--- choice what stepup
security

--- choice what email_change
email change

--- choice what login
sign-in

--- choice what
one-time
