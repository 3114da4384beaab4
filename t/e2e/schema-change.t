# The workers prepare their statements on each connection (workers/lib/db.h).
# A schema change that alters the columns a prepared statement returns
# (PostgreSQL then answers "cached plan must not change result type") must
# not break that statement for the life of the connection: the next call
# prepares it again.  Here users.occupation, which every profile query
# returns, changes type while the stack runs, and changes back.
use strict;
use warnings;
use Test::More;
use Identity::Stack qw(api json_body sql);
use Identity::Flow qw(new_user login bearer);

my $password = 'quartz lantern meadow 61';
my ($email) = new_user('schema', $password, occupation => 'Surveyor');
my $token = login($email, $password);
ok $token, 'logged in';

# More reads than the users worker has handler threads: each thread's
# connection has the profile query prepared, whichever serves a read.
sub reads {
    my ($label) = @_;
    my %status;
    for (1 .. 24) {
        my $res = api(GET => '/api/v1/users/me', undef, bearer($token));
        $status{ $res->{status} }++;
        my $body = json_body($res) || {};
        if ($res->{status} == 200 && ($body->{occupation} // '') ne 'Surveyor') {
            $status{wrong_body}++;
        }
    }
    is_deeply \%status, { 200 => 24 }, "$label: every profile read answers 200"
        or diag explain \%status;
}

reads('before the change');
sql('ALTER TABLE users ALTER COLUMN occupation TYPE varchar(255)');
END { sql('ALTER TABLE users ALTER COLUMN occupation TYPE text') }
reads('after occupation became varchar(255)');
sql('ALTER TABLE users ALTER COLUMN occupation TYPE text');
reads('after it became text again');
is((sql(q{SELECT data_type FROM information_schema.columns
          WHERE table_name = 'users' AND column_name = 'occupation'}))[0][0],
   'text', 'the column is as the migrations left it');

done_testing;
