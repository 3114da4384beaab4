# welcome.tpl: the welcome notification (format: README.md)
# After the address is verified: the HTML welcome of seed 004's
# notification service.  Not security-critical: List-Unsubscribe.

subject: Welcome
var: name text = there
to-name: name
list-unsubscribe: yes

--- text
Hi {{name}},

Your email address is verified and your account is ready.

Welcome aboard!

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Welcome</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<h1 style="margin:0 0 16px;font-size:24px;line-height:32px;">Welcome aboard!</h1>
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">Your email address is verified and your account is ready.</p>
<p style="margin:0 0 16px;">You can sign in now with your email address. We are glad to have you with us.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">You get this message because an account was made with this address.</p>
</td></tr>
</table>
</body>
</html>

--- sms
Your account is ready. Welcome!
