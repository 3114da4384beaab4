# Who may read a user's record (GET /api/v1/users/{id}): the user, or an
# admin; another user gets 403 whatever id it names, and a token is needed
# at all (ASVS 4.2.1: no direct object reference without the check).
use strict;
use warnings;
use Test::More;
use Identity::Stack qw(api json_body);
use Identity::Flow qw(new_user login bearer is_problem);

my $pw_a = 'granite willow ferry 4';
my $pw_b = 'saffron beacon tide 9';
my ($email_a, $uid_a) = new_user('acca', $pw_a);
my ($email_b, $uid_b) = new_user('accb', $pw_b);
my $token_a = login($email_a, $pw_a) or die "no token for $email_a\n";

my $res = api(GET => "/api/v1/users/$uid_a", undef, bearer($token_a));
is $res->{status}, 200, 'a user reads their own record';
is((json_body($res) || {})->{id} // (json_body($res) || {})->{user}{id},
   $uid_a, '... and it is theirs');

$res = api(GET => "/api/v1/users/$uid_b", undef, bearer($token_a));
is_problem($res, 403, 'forbidden', "another user's record");
unlike $res->{content}, qr/\Q$email_b\E/, '... and nothing of it is shown';

$res = api(GET => "/api/v1/users/" . uc $uid_b, undef, bearer($token_a));
is $res->{status}, 403, '... nor under the id in upper case';

$res = api(GET => "/api/v1/users/$uid_b", undef,
           { %{ bearer($token_a) }, 'X-Identity-Sub' => $uid_b,
             'X-Identity-Role' => 'admin' });
is $res->{status}, 403, '... nor with forged identity headers';

$res = api(GET => "/api/v1/users/$uid_b");
is $res->{status}, 401, 'without a token: 401';

done_testing;
