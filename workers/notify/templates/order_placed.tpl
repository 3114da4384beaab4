# order_placed.tpl: the order_placed notification (format: README.md)
# The shop's order confirmation (seed 004: order-placed -> email), for an
# order service that publishes its own jobs.  data.order_id and data.total
# as the shop writes them ("4711", "EUR 12.50"); data.lines, optional, the
# order's lines one a line ("3 x Mug at 19.99 = 59.97", identity-orders).
# List-Unsubscribe.

subject: Your order {{order_id}} is confirmed
var: name text = there
var: order_id text
var: total text
var: lines multiline =
to-name: name
list-unsubscribe: yes

--- text
Hi {{name}},

Thank you for your order. We have received it and are preparing it.

  Order: {{order_id}}
  Total: {{total}}

{{lines}}

We will let you know when it ships.

--- html
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your order {{order_id}} is confirmed</title>
</head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Helvetica,Arial,sans-serif;color:#1f2933;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:8px;">
<tr><td style="padding:32px;font-size:16px;line-height:24px;">
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">Thank you for your order. We have received it and are preparing it.</p>
<table role="presentation" cellpadding="0" cellspacing="0" style="margin:0 0 16px;font-size:15px;">
<tr><td style="padding:4px 16px 4px 0;color:#7b8794;">Order</td><td>{{order_id}}</td></tr>
<tr><td style="padding:4px 16px 4px 0;color:#7b8794;">Total</td><td>{{total}}</td></tr>
</table>
<p style="margin:0 0 16px;font-size:15px;white-space:pre-line;">{{lines}}</p>
<p style="margin:0 0 16px;">We will let you know when it ships.</p>
</td></tr>
</table>
<p style="font-size:12px;line-height:18px;color:#7b8794;margin:16px 0 0;">You get this message because an order was placed with this address.</p>
</td></tr>
</table>
</body>
</html>

--- sms
Your order {{order_id}} ({{total}}) is confirmed.
