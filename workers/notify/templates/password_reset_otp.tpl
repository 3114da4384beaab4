# password_reset_otp.tpl: the password_reset_otp notification (format: README.md)

subject: Your password reset code
var: name text = there
var: otp otp
var: ttl_minutes number = 10
to-name: name
list-unsubscribe: no

--- text
Hi {{name}},

Use this code to reset your password:

{{otp}}

The code expires in {{ttl_minutes}} minutes. If you did not ask to
reset your password, ignore this email: your password stays the same.

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your password reset code</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">Use this code to reset your password:</p>
<p style="margin:0 0 16px;font-size:28px;line-height:36px;font-weight:bold;letter-spacing:6px;">{{otp}}</p>
<p style="margin:0 0 16px;">The code expires in {{ttl_minutes}} minutes. If you did not ask to reset your password, ignore this email: your password stays the same.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">This message was sent automatically; replies are not read.</p>
</td></tr>
</table>
</body>
</html>

--- sms
Your password reset code is {{otp}}. It expires in {{ttl_minutes}} minutes.
