# The shop's orders (seed 004) through the gateway: identity-orders behind
# the module's identity headers.  Any signed-in user orders (401 without a
# token); the stock is taken in the order's transaction and given back by
# a cancel; an order short of stock is a 409 that changes nothing; every
# bad field a 422 naming it; buyers see only their own orders (someone
# else's is a 404), admins all, and only admins move an order on (403
# else, 409 out of turn); order.placed and the buyer's confirmation mail
# (its id, lines and total, text and HTML) go out through the outbox.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use Identity::Stack qw(api json_body wait_for_mail kafka_raw stack_token);
use Identity::Flow qw(new_user new_admin login bearer is_problem
                      wait_for_message sql1);
use Identity::Mail qw(parse_mail);

my $pw = 'amber tide window 73';
my ($admin_email, $admin_id) = new_admin('ordadm', $pw);
my $admin = login($admin_email, $pw) or die "no admin token\n";
my ($ann_email, $ann_id) = new_user('ordann', $pw, name => 'Ann Buyer');
my $ann = login($ann_email, $pw) or die "no buyer token\n";
my ($bob_email, $bob_id) = new_user('ordbob', $pw);
my $bob = login($bob_email, $pw) or die "no second user token\n";
my $tag = sprintf 'ord%dq%d', $$, int(time * 1000) % 100000000;
my $none = '00000000-0000-4000-8000-000000000000';

sub body { return json_body($_[0]) || {} }
sub field_names {
    return join ',', sort map { $_->{field} } @{ body($_[0])->{errors} || [] };
}
sub product {
    my ($name, $price, $stock) = @_;
    my $res = api(POST => '/api/v1/products',
                  { name => "$name $tag", price => $price, stock => $stock },
                  bearer($admin));
    die "product: $res->{status} $res->{content}\n" unless $res->{status} == 201;
    return body($res)->{id};
}
sub stock { return sql1('SELECT stock FROM products WHERE id = $1', $_[0]) }
sub place {
    my ($token, @lines) = @_;
    my @items;
    while (my ($id, $q) = splice @lines, 0, 2) {
        push @items, { product_id => $id, quantity => $q };
    }
    return api(POST => '/api/v1/orders', { items => \@items },
               defined $token ? bearer($token) : {});
}
sub orders_of {
    return sql1('SELECT count(*) FROM orders WHERE buyer_id = $1', $_[0]);
}

my $mug = product('Mug', '19.99', 5);
my $lamp = product('Lamp', '5.00', 2);

# --- no token: 401 on every route ------------------------------------------

is_problem(place(undef, $mug, 1), 401, 'unauthorized', 'place without a token');
is_problem(api(GET => '/api/v1/orders'), 401, 'unauthorized',
           'list without a token');
is_problem(api(GET => "/api/v1/orders/$none"), 401, 'unauthorized',
           'read without a token');
is_problem(api(POST => "/api/v1/orders/$none/cancel", {}), 401,
           'unauthorized', 'cancel without a token');
is_problem(api(POST => "/api/v1/orders/$none/status", { status => 'paid' }),
           401, 'unauthorized', 'status without a token');
is orders_of($ann_id), 0, 'nothing ordered so far';

# a valid token that is no user account's (a service's) has no orders
my $svc = stack_token(role => 'service', sub => "shop-svc-$$");
is_problem(place($svc, $mug, 1), 403, 'forbidden', 'a service places an order');
is_problem(api(GET => '/api/v1/orders', undef, bearer($svc)), 403, 'forbidden',
           'a service lists its orders');

# --- 422: each bad field named ---------------------------------------------

my $res = api(POST => '/api/v1/orders', {}, bearer($ann));
is_problem($res, 422, 'validation_failed', 'no items');
is field_names($res), 'items', '... names items';
$res = api(POST => '/api/v1/orders', { items => [] }, bearer($ann));
is_problem($res, 422, 'validation_failed', 'empty items');
is field_names($res), 'items', '... names items';
$res = api(POST => '/api/v1/orders', { items => [ map {
    { product_id => $mug, quantity => 1 } } 1 .. 101 ] }, bearer($ann));
is_problem($res, 422, 'validation_failed', '101 lines');
is field_names($res), 'items', '... names items';
$res = api(POST => '/api/v1/orders', { items => [
    { product_id => $mug, quantity => 0 },
    { product_id => $lamp, quantity => 1001 },
    { product_id => 'not-a-uuid', quantity => 2.5 },
    { product_id => $none, quantity => '1' },
    7 ] }, bearer($ann));
is_problem($res, 422, 'validation_failed', 'bad lines');
is field_names($res), join(',', sort qw(items[0].quantity items[1].quantity
                                         items[2].product_id items[2].quantity
                                         items[3].quantity items[4])),
   '... every bad field named: quantity 0, 1001, 2.5, "1", an id, a line';
$res = place($ann, $mug, 1, $none, 1);
is_problem($res, 422, 'validation_failed', 'an unknown product');
is field_names($res), 'items[1].product_id', '... names its line';
$res = place($ann, $mug, 1, $lamp, 1, $mug, 2);
is_problem($res, 422, 'validation_failed', 'a product on two lines');
is field_names($res), 'items[2].product_id', '... names the second line';
$res = api(POST => '/api/v1/orders', '{"items":', bearer($ann));
is $res->{status}, 400, 'bad JSON: 400';
is_problem(api(GET => '/api/v1/orders/nope', undef, bearer($ann)), 422,
           'validation_failed', 'a malformed order id');
is_problem(api(GET => '/api/v1/orders?limit=0', undef, bearer($ann)), 422,
           'validation_failed', 'a bad limit');
is stock($mug), 5, 'refused orders took no stock';
is orders_of($ann_id), 0, '... and wrote no order';

# --- placing an order ----------------------------------------------------------

$res = place($ann, $mug, 3, $lamp, 1);
is $res->{status}, 201, 'a user places an order: 201';
my $o1 = body($res);
like $o1->{id} // '', qr/^[0-9a-f-]{36}$/, '... with an id';
is $o1->{status}, 'placed', '... placed';
is $o1->{buyer_id}, $ann_id, '... the buyer the caller';
is $o1->{total}, '64.97', '... total exact: 3 x 19.99 + 5.00';
is scalar @{ $o1->{items} || [] }, 2, '... two lines';
is_deeply $o1->{items}[0], { product_id => $mug, name => "Mug $tag",
                             unit_price => '19.99', quantity => 3,
                             line_total => '59.97' },
          '... the first line: name and price copied, 3 x 19.99 = 59.97';
is $o1->{items}[1]{line_total}, '5.00', '... the second line';
like $o1->{created_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
     '... created_at';
is stock($mug), 2, 'the stock taken: mug 5 -> 2';
is stock($lamp), 1, '... lamp 2 -> 1';
is sql1('SELECT total::text FROM orders WHERE id = $1', $o1->{id}), '64.97',
   'stored exact in PostgreSQL';

# --- short of stock: 409, nothing changes -----------------------------------

$res = place($ann, $lamp, 1, $mug, 3);
my $p = is_problem($res, 409, 'insufficient_stock', 'more than the stock');
is field_names($res), 'items[1].quantity', '... names the short line';
like $p->{detail} // '', qr/\Q$mug\E/, '... and the product';
unlike $p->{detail} // '', qr/\Q$lamp\E/, '... not the one in stock';
is stock($lamp), 1, 'the line in stock was not taken either';
is stock($mug), 2, '... nor the short one';
is orders_of($ann_id), 1, '... no partial order';

# --- reading ---------------------------------------------------------------------

$res = api(GET => "/api/v1/orders/$o1->{id}", undef, bearer($ann));
is $res->{status}, 200, 'the buyer reads the order';
is_deeply body($res), $o1, '... as it was answered';
is_problem(api(GET => "/api/v1/orders/$o1->{id}", undef, bearer($bob)), 404,
           'order_not_found', "someone else's order");
is_problem(api(GET => "/api/v1/orders/$none", undef, bearer($ann)), 404,
           'order_not_found', 'no such order: the same answer');
is api(GET => "/api/v1/orders/$o1->{id}", undef, bearer($admin))->{status},
   200, 'an admin reads any order';
$res = api(GET => '/api/v1/orders', undef, bearer($ann));
is $res->{status}, 200, 'the buyer lists her orders';
is_deeply [ map { $_->{id} } @{ body($res)->{orders} || [] } ], [ $o1->{id} ],
          '... hers';
is body($res)->{total}, 1, '... total 1';
$res = api(GET => "/api/v1/orders?buyer=$ann_id", undef, bearer($bob));
is_deeply body($res)->{orders}, [], "another user's list: none of hers, "
          . 'buyer= ignored';
$res = api(GET => "/api/v1/orders?buyer=$ann_id", undef, bearer($admin));
is_deeply [ map { $_->{id} } @{ body($res)->{orders} || [] } ], [ $o1->{id} ],
          'an admin lists one buyer\'s orders';

# --- the confirmation mail and the event ---------------------------------------

my $raw = wait_for_mail($ann_email, qr/\Q$o1->{id}\E/, 30);
ok $raw, 'the buyer gets the order confirmation';
my $m = parse_mail($raw) || { parts => [], header => sub { undef } };
like $m->{header}->('Subject') // '', qr/\Q$o1->{id}\E/, '... subject: the order';
my ($text) = map { $_->{body} } grep { $_->{type} eq 'text/plain' } @{ $m->{parts} };
my ($html) = map { $_->{body} } grep { $_->{type} eq 'text/html' } @{ $m->{parts} };
like $text // '', qr/^Hi Ann Buyer,$/m, 'text part: greets the buyer';
like $text // '', qr/Order: \Q$o1->{id}\E/, 'text part: the order id';
like $text // '', qr/^3 x Mug \Q$tag\E at 19\.99 = 59\.97$/m,
     'text part: the first line';
like $text // '', qr/^1 x Lamp \Q$tag\E at 5\.00 = 5\.00$/m,
     'text part: the second line';
like $text // '', qr/Total: 64\.97/, 'text part: the total';
like $html // '', qr/\Q$o1->{id}\E/, 'HTML part: the order id';
like $html // '', qr/3 x Mug \Q$tag\E at 19\.99 = 59\.97/,
     'HTML part: the first line';
like $html // '', qr/>64\.97</, 'HTML part: the total';

sub event {
    my ($type, $id) = @_;
    return wait_for_message('identity.events', sub {
        ($_[0]{type} // '') eq $type && ($_[0]{subject} // '') eq $id
    });
}
my $ev = event('order.placed', $o1->{id});
ok $ev, 'order.placed on identity.events';
is $ev->{data}{by}, $ann_id, '... by the buyer';
is $ev->{data}{order}{total}, '64.97', '... with the order';
ok grep({ index($_, "$o1->{id}\t") == 0 } kafka_raw('identity.events')),
   '... keyed by the order id';

# --- status changes: admins, one step at a time ------------------------------

my $st = "/api/v1/orders/$o1->{id}/status";
$res = api(POST => $st, { status => 'paid' }, bearer($ann));
is_problem($res, 403, 'forbidden', 'a user changes a status');
like $res->{headers}{'www-authenticate'} // '', qr/insufficient_scope/,
     '... refused by the gateway itself';
$res = api(POST => $st, { status => 'cancelled' }, bearer($admin));
is_problem($res, 422, 'validation_failed', 'status cancelled');
is field_names($res), 'status', '... names status';
is_problem(api(POST => $st, {}, bearer($admin)), 422, 'validation_failed',
           'no status');
is_problem(api(POST => $st, { status => 'shipped' }, bearer($admin)), 409,
           'order_status_conflict', 'placed -> shipped skips a step');
is_problem(api(POST => "/api/v1/orders/$none/status", { status => 'paid' },
               bearer($admin)), 404, 'order_not_found', 'status of no order');
$res = api(POST => $st, { status => 'paid' }, bearer($admin));
is $res->{status}, 200, 'an admin: placed -> paid';
is body($res)->{status}, 'paid', '... paid';
is_problem(api(POST => $st, { status => 'paid' }, bearer($admin)), 409,
           'order_status_conflict', 'paid -> paid');
is_problem(api(POST => "/api/v1/orders/$o1->{id}/cancel", {}, bearer($ann)),
           409, 'order_status_conflict', 'the buyer cancels a paid order');
is stock($mug), 2, '... which gives no stock back';
$res = api(POST => $st, { status => 'shipped' }, bearer($admin));
is body($res)->{status}, 'shipped', 'paid -> shipped';
$ev = event('order.status_changed', $o1->{id});
ok $ev && $ev->{data}{from} eq 'placed' && $ev->{data}{to} eq 'paid',
   'order.status_changed placed -> paid';
is $ev && $ev->{data}{by}, $admin_id, '... by the admin';

# --- cancel: the buyer, while placed; the stock comes back -------------------

my $o2 = body(place($ann, $mug, 2));
is $o2->{total}, '39.98', 'a second order: 2 x 19.99';
is stock($mug), 0, '... the last mugs';
is_problem(place($bob, $mug, 1), 409, 'insufficient_stock',
           'none left for another buyer');
is_problem(api(POST => "/api/v1/orders/$o2->{id}/cancel", {}, bearer($bob)),
           404, 'order_not_found', "someone else's order cancelled");
is_problem(api(POST => "/api/v1/orders/$o2->{id}/cancel", {}, bearer($admin)),
           403, 'forbidden', 'an admin cancels a buyer\'s order');
is stock($mug), 0, '... the stock untouched';
$res = api(POST => "/api/v1/orders/$o2->{id}/cancel", {}, bearer($ann));
is $res->{status}, 200, 'the buyer cancels her placed order';
is body($res)->{status}, 'cancelled', '... cancelled';
is stock($mug), 2, '... the stock given back';
is_problem(api(POST => "/api/v1/orders/$o2->{id}/cancel", {}, bearer($ann)),
           409, 'order_status_conflict', 'cancelled twice');
is stock($mug), 2, '... gives back nothing more';
is_problem(api(POST => "/api/v1/orders/$o2->{id}/status", { status => 'paid' },
               bearer($admin)), 409, 'order_status_conflict',
           'a cancelled order is not paid');
$ev = event('order.cancelled', $o2->{id});
ok $ev, 'order.cancelled on identity.events';
is $ev && $ev->{data}{order}{status}, 'cancelled', '... with the order';

$res = api(GET => '/api/v1/orders', undef, bearer($ann));
is_deeply [ map { $_->{id} } @{ body($res)->{orders} || [] } ],
          [ $o2->{id}, $o1->{id} ], 'her list: newest first';

# --- a deleted account's orders stay, without their buyer -------------------

my ($cy_email, $cy_id) = new_user('ordcy', $pw);
my $cy = login($cy_email, $pw) or die "no third user token\n";
my $o3 = body(place($cy, $lamp, 1));
is $o3->{status}, 'placed', 'a third user orders';
sql1('DELETE FROM users WHERE id = $1', $cy_id);
$res = api(GET => "/api/v1/orders/$o3->{id}", undef, bearer($admin));
is $res->{status}, 200, 'her account deleted: the order stays';
ok exists body($res)->{buyer_id} && !defined body($res)->{buyer_id},
   '... its buyer_id null';
is_problem(place($cy, $lamp, 1), 401, 'unauthorized',
           'her token, still valid, orders no more');

# --- /metrics/orders: the relay's metrics, loopback only -------------------

like api(GET => '/metrics/orders')->{content} // '',
     qr/^identity_relay_active [01]$/m, '/metrics/orders';

done_testing;
