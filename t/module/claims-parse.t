# The header and claims of a signed token, as jansson reads them: plain and
# less usual JSON (spaces, escapes, fractions, nesting) accepted alike,
# duplicate names refused however they are spelled, and types checked.
use IdentityJWT;
use Test::Nginx::Socket 'no_plan';
use JSON::PP;

no_root_location();

my $now = time;
my $exp = $now + 600;
my ($hs) = grep { $_->{kid} eq 'hs1' } @{ decode_json(slurp('jwks.json'))->{keys} };

# an HS256 token whose payload (and header) JSON text is exactly as given
sub signed {
    my ($payload, $header) = @_;
    my $h = b64u($header // '{"alg":"HS256","kid":"hs1","typ":"JWT"}');
    my $p = b64u($payload);
    # the signature over our own header.payload
    require Crypt::Mac::HMAC;
    my $k = $hs->{k};
    $k =~ tr{-_}{+/};
    $k .= '=' x ((4 - length($k) % 4) % 4);
    require MIME::Base64;
    my $mac = Crypt::Mac::HMAC::hmac('SHA256', MIME::Base64::decode_base64($k),
                                      "$h.$p");
    return "$h.$p." . b64u($mac);
}

our %t = (
    plain      => signed(qq({"sub":"user-7","role":"user","exp":$exp,"aud":["x","gateway"],"iss":"https://id.example.test"})),
    spaced     => signed(qq({ "sub" : "user-8" ,\n "exp" : $exp , "aud" : "gateway" , "ok" : true , "n" : null , "f" : false , "e" : [ ] }),
                         qq({ "alg" : "HS256" , "kid" : "hs1" })),
    escaped    => signed(qq({"sub":"user-\\u0039","exp":$exp,"aud":"gateway"})),
    esc_hdr    => signed(qq({"sub":"user-10","exp":$exp,"aud":"gateway"}),
                         '{"\u0061lg":"HS256","kid":"hs1"}'),
    fraction   => signed(qq({"sub":"user-11","exp":$exp.5,"aud":"gateway"})),
    nested     => signed(qq({"sub":"user-12","exp":$exp,"aud":"gateway","x":{"y":[1,{"z":2}]}})),
    dup        => signed(qq({"sub":"user-1","sub":"admin","exp":$exp,"aud":"gateway"})),
    dup_esc    => signed(qq({"sub":"user-1","s\\u0075b":"admin","exp":$exp,"aud":"gateway"})),
    dup_other  => signed(qq({"sub":"user-1","x":1,"exp":$exp,"x":2,"aud":"gateway"})),
    dup_hdr    => signed(qq({"sub":"user-1","exp":$exp,"aud":"gateway"}),
                         '{"alg":"HS256","kid":"hs1","kid":"es1"}'),
    exp_str    => signed(qq({"sub":"user-1","exp":"$exp","aud":"gateway"})),
    exp_neg    => signed(qq({"sub":"user-1","exp":-1,"aud":"gateway"})),
    exp_huge   => signed(qq({"sub":"user-1","exp":12345678901234567890,"aud":"gateway"})),
    exp_lead0  => signed(qq({"sub":"user-1","exp":0$exp,"aud":"gateway"})),
    sub_num    => signed(qq({"sub":42,"exp":$exp,"aud":"gateway"})),
    no_exp     => signed(qq({"sub":"user-1","aud":"gateway"})),
    trailing   => signed(qq({"sub":"user-1","exp":$exp,"aud":"gateway"} x)),
    not_object => signed(qq(["sub","user-1"])),
    kid_num    => signed(qq({"sub":"user-1","exp":$exp,"aud":"gateway"}),
                         '{"alg":"HS256","kid":7}'),
    alg_num    => signed(qq({"sub":"user-1","exp":$exp,"aud":"gateway"}),
                         '{"alg":256,"kid":"hs1"}'),
    typ_num    => signed(qq({"sub":"user-1","exp":$exp,"aud":"gateway"}),
                         '{"alg":"HS256","kid":"hs1","typ":1}'),
    crit       => signed(qq({"sub":"user-1","exp":$exp,"aud":"gateway"}),
                         '{"alg":"HS256","kid":"hs1","crit":["exp"]}'),
    aud_mixed  => signed(qq({"sub":"user-13","exp":$exp,"aud":[1,"gateway"]})),
    aud_other  => signed(qq({"sub":"user-14","exp":$exp,"aud":["billing"]})),
);

# the same token with its payload changed after signing, and one whose
# HMAC is cut short
($t{bad_mac} = $t{plain}) =~ s/^([^.]+)\.([^.]+)/$1 . '.' . b64u(qq({"sub":"admin","exp":$exp,"aud":"gateway"}))/e;
($t{short_mac} = $t{plain}) =~ s/.{11}$//;

our $Config = <<'_EOC_';
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;
        identity_jwt_algorithms HS256;
        identity_jwt_audience gateway;
        add_header X-Sub $identity_sub;
        add_header X-F $identity_claim_ok;
        empty_gif;
    }
_EOC_

# [token, status, X-Sub or refusal reason]
our @cases = (
    [plain => 200, 'user-7'], [spaced => 200, 'user-8'],
    [escaped => 200, 'user-9'], [esc_hdr => 200, 'user-10'],
    [fraction => 200, 'user-11'], [nested => 200, 'user-12'],
    [aud_mixed => 200, 'user-13'],
    [dup => 401, 'malformed claims'], [dup_esc => 401, 'malformed claims'],
    [dup_other => 401, 'malformed claims'],
    [dup_hdr => 401, 'malformed token'],
    [exp_str => 401, 'malformed exp'], [exp_neg => 401, 'malformed exp'],
    [exp_huge => 401, 'malformed claims'],
    [exp_lead0 => 401, 'malformed claims'],
    [sub_num => 401, 'malformed claim'], [no_exp => 401, 'no exp claim'],
    [trailing => 401, 'malformed claims'],
    [not_object => 401, 'malformed claims'],
    [kid_num => 401, 'malformed kid'], [alg_num => 401, 'algorithm not allowed'],
    [typ_num => 401, 'malformed typ'],
    [crit => 401, 'unsupported critical header'],
    [aud_other => 401, 'wrong audience'],
    [bad_mac => 401, 'bad signature'], [short_mac => 401, 'bad signature'],
);

run_tests();

__DATA__

=== TEST 1: every token decided as its JSON says
--- http_config
    identity_jwt_cache off;
    identity_jwt_refusal_cache off;
--- config eval: $::Config
--- more_headers eval
[map { "Authorization: Bearer $::t{$_->[0]}" } @::cases]
--- request eval
[map { "GET /p" } @::cases]
--- error_code eval
[map { $_->[1] } @::cases]
--- response_headers eval
[map {
    $_->[1] == 200
        ? "X-Sub: $_->[2]"
        : qq(WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="$_->[2]")
 } @::cases]
