# password_changed.tpl: the password_changed notification (format: README.md)
# data.via is how (password worker): a reset with an emailed code ends
# every session, a change ends every other one (the session it was made
# from stays).  Without via (older jobs, other senders) the mail says
# nothing about sessions.

subject: Your password was changed
var: name text = there
var: via choice =
to-name: name
list-unsubscribe: no

--- text
Hi {{name}},

{{via}}

If you did not do this, reset your password now and contact support.

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your password was changed</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">{{via}}</p>
<p style="margin:0 0 16px;"><strong>If you did not do this, reset your password now and contact support.</strong></p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">This message was sent automatically; replies are not read.</p>
</td></tr>
</table>
</body>
</html>

--- sms
Your password was changed. If this was not you, reset it now.

--- choice via reset
The password of your account was just reset with a code sent to this
address, and every session was signed out.

--- choice via change
The password of your account was just changed, and every other session
was signed out; the one it was changed from stays signed in.

--- choice via
The password of your account was just changed.
