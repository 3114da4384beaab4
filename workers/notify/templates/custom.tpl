# custom.tpl: the custom notification (format: README.md)
# Admin and internal sends (POST /api/v1/notifications/email and /sms):
# the caller writes the words; an SMS is the text alone.

subject: {{subject}}
var: subject text
var: text multiline
list-unsubscribe: no

--- text
{{text}}

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{subject}}</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<div style="white-space:pre-wrap;">{{text}}</div>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">This message was sent automatically; replies are not read.</p>
</td></tr>
</table>
</body>
</html>
