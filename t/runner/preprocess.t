# Runner self-test: add_block_preprocessor() (last added runs first, before
# each block) and no_shuffle() (file order).
use Test::Nginx::Socket;

# 3 blocks x (status + body + no_error_log added by a preprocessor) + 1
plan tests => repeat_each() * 3 * blocks() + 1;

our @Seen;

add_block_preprocessor(sub {
    my $block = shift;
    push @Seen, 'first-added:' . $block->seq_num;
    if (!defined $block->no_error_log) {
        $block->set_value('no_error_log', "[error]\n");
    }
});

add_block_preprocessor(sub {
    my $block = shift;
    push @Seen, 'second-added:' . $block->seq_num;
    if (!defined $block->config) {
        $block->set_value('config', qq{    location = /t { return 200 "default\\n"; }\n});
    }
    if ($block->seq_num == 3) {
        is_deeply(\@Seen, [qw(second-added:1 first-added:1 second-added:2 first-added:2
                              second-added:3)], 'preprocessors in order, blocks in file order');
    }
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: config added by a preprocessor
--- request
GET /t
--- response_body
default



=== TEST 2: own config
--- config
    location = /t { return 200 "own\n"; }
--- request
GET /t
--- response_body
own



=== TEST 3: config added again
--- request
GET /t
--- response_body
default
