# login_failures.tpl: the login_failures notification (format: README.md)

subject: Many failed sign-in attempts on your account
var: name text = there
var: attempts number
to-name: name
list-unsubscribe: no

--- text
Hi {{name}},

There were {{attempts}} failed attempts to sign in to your account
within the last hour. Until they stop, sign-ins from addresses never
used with your account are slowed down; from where you signed in
before, yours work as usual.

If this was not you, your account is safe as long as your password
is strong and used nowhere else: change it if in doubt.

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Many failed sign-in attempts on your account</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">There were {{attempts}} failed attempts to sign in to your account within the last hour. Until they stop, sign-ins from addresses never used with your account are slowed down; from where you signed in before, yours work as usual.</p>
<p style="margin:0 0 16px;">If this was not you, your account is safe as long as your password is strong and used nowhere else: change it if in doubt.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">This message was sent automatically; replies are not read.</p>
</td></tr>
</table>
</body>
</html>

--- sms
Many failed sign-in attempts on your account. If this was not you, make sure your password is strong and used nowhere else.
