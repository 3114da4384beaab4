# Orders at once for one product, through the gateway.  50 for a product
# with 10 in stock: exactly 10 are placed (201), 40 refused (409
# insufficient_stock), the stock ends at 0, never below, and there are
# exactly 10 orders.  Then orders that queue behind a transaction that
# changes the stock (an admin's, say) see the stock it leaves: none
# placed on the stock as it was before (which would end below 0: a 503,
# PostgreSQL's CHECK refusing it).  Each burst is sent by processes
# released together.
use strict;
use warnings;
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use Identity::Stack qw(api json_body);
use Identity::Flow qw(new_user new_admin login bearer sql1);

my $pw = 'copper meadow lantern 19';
my ($admin_email) = new_admin('raceadm', $pw);
my $admin = login($admin_email, $pw) or die "no admin token\n";
my ($buyer_email, $buyer_id) = new_user('racebuy', $pw);
my $buyer = login($buyer_email, $pw) or die "no buyer token\n";
my $tag = sprintf 'race%dq%d', $$, int(time * 1000) % 100000000;

sub product {
    my ($name, $stock) = @_;
    my $res = api(POST => '/api/v1/products',
                  { name => "$name $tag", price => '2.50', stock => $stock },
                  bearer($admin));
    die "product: $res->{status} $res->{content}\n" unless $res->{status} == 201;
    return (json_body($res) || {})->{id};
}

# burst(N, PRODUCT, AT) -> { "STATUS CODE" => how many }: N orders of one
# PRODUCT, each from its own process, all sent at time AT.
sub burst {
    my ($n, $id, $at) = @_;
    my @kids;
    for my $i (1 .. $n) {
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            close $r;
            sleep($at - time) if $at > time;
            my $res = api(POST => '/api/v1/orders',
                          { items => [ { product_id => $id, quantity => 1 } ] },
                          bearer($buyer));
            my $code = ((json_body($res) || {})->{code}) // '';
            print {$w} "$res->{status} $code\n";
            close $w;
            POSIX::_exit(0);    # no END blocks of the parent's
        }
        close $w;
        push @kids, [ $pid, $r ];
    }
    my %seen;
    for my $k (@kids) {
        my $fh = $k->[1];
        my $line = <$fh> // "none\n";
        chomp $line;
        $seen{$line}++;
        waitpid $k->[0], 0;
    }
    return \%seen;
}

my $id = product('Ticket', 10);
my $seen = burst(50, $id, time + 1.5);
is $seen->{'201 '} // 0, 10, '50 at once for 10 in stock: exactly 10 placed'
    or diag explain $seen;
is $seen->{'409 insufficient_stock'} // 0, 40, '40 refused: insufficient_stock';
is sql1('SELECT stock FROM products WHERE id = $1', $id), 0,
   'the stock ends at 0';
is sql1('SELECT count(*) FROM order_items WHERE product_id = $1', $id), 10,
   'exactly 10 orders of it';
is sql1('SELECT count(*) FROM orders WHERE buyer_id = $1', $buyer_id), 10,
   '... all the buyer\'s';

# --- orders queued behind a change of the stock -------------------------------

my $id2 = product('Pass', 10);
my $url = $ENV{IDENTITY_DATABASE_URL} or die "IDENTITY_DATABASE_URL not set\n";
my $holder = fork // die "fork: $!";
if ($holder == 0) {
    open STDOUT, '>', '/dev/null';
    exec 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $url, '-c',
        "BEGIN; UPDATE products SET stock = 3 WHERE id = '$id2';"
        . ' SELECT pg_sleep(2); COMMIT;';
    POSIX::_exit(127);
}
# the holder has the row (its UPDATE is quick) before the orders arrive
sleep 0.7;
$seen = burst(8, $id2, time + 0.2);
waitpid $holder, 0;
is $?, 0, 'a transaction held the product and set its stock to 3';
is $seen->{'201 '} // 0, 3, '8 orders queued behind it: 3 placed'
    or diag explain $seen;
is $seen->{'409 insufficient_stock'} // 0, 5, '5 refused, none failed';
is sql1('SELECT stock FROM products WHERE id = $1', $id2), 0,
   'the stock it left taken, to 0';

done_testing;
