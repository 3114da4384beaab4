# signup_set_password.tpl: the signup_set_password notification (format: README.md)
# data.via is why the account has no password (lib/signupmail.h): a
# contested sign-up (none, the default: older jobs), or the registration
# form, which takes no password.

subject: Set a password for your account
var: otp otp
var: ttl_minutes number = 10
var: via choice =
list-unsubscribe: no

--- text
Hello,

{{via}}

{{otp}}

The code expires in {{ttl_minutes}} minutes; after that, ask for a
new one with "forgot password".

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Set a password for your account</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hello,</p>
<p style="margin:0 0 16px;">{{via}}</p>
<p style="margin:0 0 16px;font-size:28px;line-height:36px;font-weight:bold;letter-spacing:6px;">{{otp}}</p>
<p style="margin:0 0 16px;">The code expires in {{ttl_minutes}} minutes; after that, ask for a new one with &ldquo;forgot password&rdquo;.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">This message was sent automatically; replies are not read.</p>
</td></tr>
</table>
</body>
</html>

--- sms
Set your password with the code {{otp}} (password reset). It expires in {{ttl_minutes}} minutes.

--- choice via
Your email address is verified and your account is ready. More than
one sign-up was made with this address, with different passwords,
so none of them was kept: set your password with this code (password
reset):

--- choice via form
An account was made for this address with our registration form. To
sign in, set its password with this code (password reset); that also
confirms this address. If you did not ask for an account, ignore this
email: without the code nobody can sign in to it.
