# account_locked.tpl: the account_locked notification (format: README.md)
# For a publisher that locks sign-ins to an account for a while after
# failed attempts (this project's auth worker slows them down instead and
# sends login_failures).  data.minutes: how long the lock lasts.

subject: Sign-ins to your account are locked
var: name text = there
var: minutes number
to-name: name
list-unsubscribe: no

--- text
Hi {{name}},

After too many failed attempts, signing in to your account is locked
for {{minutes}} minutes. Nothing else has changed.

If this was not you, someone may know your email address and be
guessing your password: once the lock ends, change your password if
in doubt.

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-ins to your account are locked</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">After too many failed attempts, signing in to your account is locked for {{minutes}} minutes. Nothing else has changed.</p>
<p style="margin:0 0 16px;">If this was not you, someone may know your email address and be guessing your password: once the lock ends, change your password if in doubt.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">This message was sent automatically; replies are not read.</p>
</td></tr>
</table>
</body>
</html>

--- sms
Sign-ins to your account are locked for {{minutes}} minutes after too many failed attempts.
