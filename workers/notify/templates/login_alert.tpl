# login_alert.tpl: the login_alert notification (format: README.md)
# A login from a device or address the account had not used: what the
# auth worker knows of it, never a token.

subject: New sign-in to your account
var: name text = there
var: time text
var: address text = unknown
var: device text = unknown
to-name: name
list-unsubscribe: no

--- text
Hi {{name}},

Your account was just signed in to from a device or an address it
had not been used from before:

  Time:    {{time}}
  Address: {{address}}
  Device:  {{device}}

If this was you, there is nothing to do. If it was not, change your
password now: that signs out every other session.

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>New sign-in to your account</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">Your account was just signed in to from a device or an address it had not been used from before:</p>
<table role="presentation" cellpadding="0" cellspacing="0" style="margin:0 0 16px;font-size:15px;">
<tr><td style="padding:4px 16px 4px 0;color:#7b8794;">Time</td><td>{{time}}</td></tr>
<tr><td style="padding:4px 16px 4px 0;color:#7b8794;">Address</td><td>{{address}}</td></tr>
<tr><td style="padding:4px 16px 4px 0;color:#7b8794;">Device</td><td>{{device}}</td></tr>
</table>
<p style="margin:0 0 16px;">If this was you, there is nothing to do. If it was not, <strong>change your password now</strong>: that signs out every other session.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">This message was sent automatically; replies are not read.</p>
</td></tr>
</table>
</body>
</html>

--- sms
New sign-in to your account at {{time}} from {{address}}. If this was not you, change your password now.
