# Finding users, for admins: GET /api/v1/users (pages, search, role filter)
# and GET /api/v1/users/by-email/{email}.  Admin only at the gateway and in
# the worker, every bad argument a 422 naming it.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use Identity::Stack qw(api json_body sql);
use Identity::Flow qw(new_user new_admin login bearer is_problem);
use Identity::Worker qw(stack_socket raw_http);

my $pw = 'velvet orbit canyon 42';
my ($admin_email, $admin_id) = new_admin('lstadm', $pw);
my $admin = login($admin_email, $pw) or die "no admin token\n";
my ($user_email, $user_id) = new_user('lstusr', $pw);
my $user = login($user_email, $pw) or die "no user token\n";

# Fixtures straight in PostgreSQL, as an import would leave them: each
# carries $tag somewhere (email, name, first or last name), with creation
# times set so that the order is known, two of them at the same instant.
my $tag = sprintf 'lst%dq%d', $$, int(time * 1000) % 100000000;
my %fx;
sub fixture {
    my ($key, $email, %f) = @_;
    my ($id) = map { $_->[0] } sql(
        'INSERT INTO users (email, password_hash, name, first_name, last_name,'
        . ' role, created_at) VALUES ($1, \'\', NULLIF($2, \'\'),'
        . ' NULLIF($3, \'\'), NULLIF($4, \'\'), $5, $6::timestamptz)'
        . ' RETURNING id',
        $email, $f{name} // '', $f{first_name} // '', $f{last_name} // '',
        $f{role} // 'user', $f{at});
    $fx{$key} = $id;
}
my $o = "$$-" . int(time * 1000);
fixture(a => "$tag.a\@example.com", at => '2001-01-01 00:00:01+00');
fixture(b => "$tag.b\@example.com", role => 'admin',
        at => '2001-01-01 00:00:01+00');
fixture(d => "d-$o\@example.org", name => "Dora ${tag}Name",
        at => '2001-01-01 00:00:02+00');
fixture(e => "e-$o\@example.org", first_name => "${tag}First",
        at => '2001-01-01 00:00:03+00');
fixture(f => "f-$o\@example.org", last_name => "${tag}Last",
        at => '2001-01-01 00:00:04+00');
fixture(g => "g-$o\@example.org", last_name => "100%$tag",
        at => '2001-01-01 00:00:05+00');
fixture(h => "h-$o\@example.org", first_name => "x_$tag",
        at => '2001-01-01 00:00:06+00');
fixture(i => "i-$o\@example.org", last_name => "a\\$tag",
        at => '2001-01-01 00:00:07+00');
my ($first, $second) = $fx{a} lt $fx{b} ? ('a', 'b') : ('b', 'a');
my @order = map { $fx{$_} } $first, $second, qw(d e f g h i);

sub list {
    my ($query, $token) = @_;
    return api(GET => "/api/v1/users$query", undef, bearer($token // $admin));
}
sub ids { return [ map { $_->{id} } @{ (json_body($_[0]) || {})->{users} || [] } ] }
sub uri { (my $s = shift) =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge; $s }

# --- who may list -------------------------------------------------------------

is_problem(api(GET => '/api/v1/users'), 401, undef, 'no token');
my $res = list('', $user);
is_problem($res, 403, 'forbidden', 'a user at the gateway');
like $res->{headers}{'www-authenticate'} // '', qr/insufficient_scope/,
     '... refused by the gateway itself (insufficient_scope)';
my $users_sock = stack_socket('users');
my @as_user = ([ 'X-Identity-Sub', $user_id ], [ 'X-Identity-Role', 'user' ]);
$res = raw_http($users_sock, 'GET', '/api/v1/users', \@as_user);
is $res->{status}, 403, 'a user straight at the worker: 403 too';
like $res->{content}, qr/"code":"forbidden"/, '... forbidden';
unlike $res->{content}, qr/\Q$admin_email\E/, '... and no user in it';
$res = raw_http($users_sock, 'GET', '/api/v1/users/by-email/' . uri($admin_email),
                \@as_user);
is $res->{status}, 403, 'by-email as a user straight at the worker: 403';

# --- a page ------------------------------------------------------------------

$res = list('?q=' . uri($tag));
is $res->{status}, 200, 'an admin lists: 200';
my $page = json_body($res) || {};
is_deeply ids($res), \@order, 'the search finds every fixture, oldest first'
    . ' (same instant: by id)';
is $page->{count}, 8, 'count: the users in this page';
is $page->{total}, 8, 'total: all that match';
is $page->{limit}, 100, 'limit defaults to 100';
is $page->{offset}, 0, 'offset defaults to 0';
my ($fa) = grep { $_->{id} eq $fx{a} } @{ $page->{users} || [] };
is $fa->{email}, "$tag.a\@example.com", 'a user object with its email';
is $fa->{role}, 'user', '... its role';
is $fa->{created_at}, '2001-01-01T00:00:01Z', '... its creation time';
ok exists $fa->{email_verified_at}, '... and the other profile fields';
unlike $res->{content}, qr/password|argon2/i, 'never a password hash';

$res = list('?q=' . uri($tag) . '&limit=3');
is_deeply ids($res), [ @order[0 .. 2] ], 'limit 3: the first three';
is((json_body($res) || {})->{total}, 8, '... total still 8');
is((json_body($res) || {})->{count}, 3, '... count 3');
$res = list('?q=' . uri($tag) . '&limit=3&offset=3');
is_deeply ids($res), [ @order[3 .. 5] ], 'offset 3: the next three';
$res = list('?q=' . uri($tag) . '&limit=3&offset=6');
is_deeply ids($res), [ @order[6, 7] ], 'offset 6: the last two';
is((json_body($res) || {})->{count}, 2, '... count 2');
$res = list('?q=' . uri($tag) . '&offset=50');
is $res->{status}, 200, 'an offset past the end: 200';
is_deeply ids($res), [], '... no users';
is((json_body($res) || {})->{total}, 8, '... and the total');
is((json_body($res) || {})->{offset}, 50, '... and the offset');

# --- search ------------------------------------------------------------------

is_deeply ids(list('?q=' . uri(uc $tag))), \@order, 'q is case-insensitive';
is_deeply ids(list('?q=' . uri("${tag}Name"))), [ $fx{d} ], 'q finds a name';
is_deeply ids(list('?q=' . uri(lc "${tag}FIRST"))), [ $fx{e} ],
    'q finds a first name';
is_deeply ids(list('?q=' . uri("${tag}Last"))), [ $fx{f} ], 'q finds a last name';
is_deeply ids(list('?q=' . uri("$tag.b\@EXAMPLE.com"))), [ $fx{b} ],
    'q finds an email';
is_deeply ids(list('?q=' . uri("%$tag"))), [ $fx{g} ],
    'a % in q is a percent sign, not a wildcard';
is_deeply ids(list('?q=' . uri("_$tag"))), [ $fx{h} ],
    'an _ in q is an underscore, not a wildcard';
is_deeply ids(list('?q=' . uri("\\$tag"))), [ $fx{i} ],
    'a \\ in q is a backslash, not an escape';
is_deeply ids(list('?q=' . uri("nobody-$tag-nowhere"))), [], 'no match: no users';
is_deeply ids(list('?q=' . uri($tag) . '&role=admin')), [ $fx{b} ],
    'role=admin: the admins only';
is_deeply ids(list('?q=' . uri($tag) . '&role=user')),
    [ grep { $_ ne $fx{b} } @order ], 'role=user: the others';
$res = list('?role=admin');
ok((grep { $_ eq $admin_id } @{ ids($res) }) && !(grep { $_ eq $user_id } @{ ids($res) }),
   'role=admin without q: the admin, not the user');
$res = list('?q=' . ('y' x 200));
is $res->{status}, 200, 'q of 200 characters: 200';

# --- bad arguments -----------------------------------------------------------

for my $case ([ 'limit=0', 'limit' ], [ 'limit=101', 'limit' ],
              [ 'limit=-1', 'limit' ], [ 'limit=ten', 'limit' ],
              [ 'limit=', 'limit' ], [ 'limit=1.5', 'limit' ],
              [ 'offset=-1', 'offset' ], [ 'offset=x', 'offset' ],
              [ 'offset=99999999999', 'offset' ],
              [ 'role=root', 'role' ], [ 'role=Admin', 'role' ],
              [ 'q=' . ('y' x 201), 'q' ], [ 'q=%FF%FE', 'q' ],
              [ 'q=a%09b', 'q' ]) {
    my ($query, $field) = @$case;
    my $p = is_problem(list("?$query"), 422, 'validation_failed',
                       "?$query" =~ s/(.{40}).+/$1.../r);
    is(($p->{errors}[0] || {})->{field}, $field, "... names $field");
}
my $p = is_problem(list('?limit=0&offset=-1&role=x'), 422, 'validation_failed',
                   'three bad arguments');
is scalar @{ $p->{errors} || [] }, 3, '... three errors at once';

# --- by email ----------------------------------------------------------------

$res = api(GET => '/api/v1/users/by-email/' . uri($user_email), undef, bearer($admin));
is $res->{status}, 200, 'by-email: 200';
is((json_body($res) || {})->{id}, $user_id, '... the user');
unlike $res->{content}, qr/password|argon2/i, '... never a password hash';
$res = api(GET => '/api/v1/users/by-email/' . uc($user_email), undef, bearer($admin));
is((json_body($res) || {})->{id}, $user_id, 'the address in capitals: normalised');
$res = api(GET => "/api/v1/users/by-email/$tag.b\@example.com", undef, bearer($admin));
is((json_body($res) || {})->{role}, 'admin', 'an unescaped @ too');
is_problem(api(GET => "/api/v1/users/by-email/nobody-$tag\@example.com", undef,
               bearer($admin)), 404, 'user_not_found', 'an unknown address');
for my $bad ('not-an-address', 'two@@example.com', "$tag\@nodot", ('x' x 250) . '@example.com') {
    $p = is_problem(api(GET => '/api/v1/users/by-email/' . uri($bad), undef, bearer($admin)),
                    422, 'validation_failed', 'by-email ' . substr($bad, 0, 20));
    is(($p->{errors}[0] || {})->{field}, 'email', '... names email');
}
$res = api(GET => '/api/v1/users/by-email/' . uri($admin_email), undef, bearer($user));
is_problem($res, 403, 'forbidden', 'by-email as a user, at the gateway');
like $res->{headers}{'www-authenticate'} // '', qr/insufficient_scope/,
     '... refused by the gateway itself (insufficient_scope)';
is_problem(api(GET => '/api/v1/users/by-email/' . uri($admin_email)), 401, undef,
           'by-email without a token');
is_problem(api(GET => '/api/v1/users/by-email/', undef, bearer($admin)), 404, undef,
           'by-email without an address');

# the routes beside them still answer as before
$res = api(GET => "/api/v1/users/$user_id", undef, bearer($user));
is $res->{status}, 200, 'a user still reads their own record';
$res = api(GET => '/api/v1/users/me', undef, bearer($user));
is((json_body($res) || {})->{id}, $user_id, 'and /users/me');

done_testing;
