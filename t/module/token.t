# identity_jwt_token (where the token comes from: the Authorization header,
# a cookie, a query argument, the Sec-WebSocket-Protocol entry after a
# marker), identity_jwt_typ, and the algorithms a key may verify (its
# "alg", else its type's family).
use IdentityJWT;
use Crypt::PK::RSA;
use Test::Nginx::Socket 'no_plan';

no_root_location();

my $rsa_public_pem = Crypt::PK::RSA->new(data_dir() . '/rs256.key.pem')
    ->export_key_pem('public');

our %t = (
    es256     => token('ES256'),
    typ_jwt   => token('ES256', {}, { typ => 'JWT' }),
    typ_at    => token('ES256', {}, { typ => 'application/at+jwt' }),
    typ_dpop  => token('ES256', {}, { typ => 'dpop+jwt' }),
    typ_num   => token('ES256', {}, { typ => 5 }),
    rs_any    => token('RS256', {}, { kid => 'rs-any' }),
    rs384_any => token('RS384', {}, { kid => 'rs-any' }),
    ps_any    => token('PS256', {}, { kid => 'rs-any' }),
    es_any    => token('ES256', {}, { kid => 'es-any' }),
    ps_rs1    => token('PS256'),
    hs_rs_any => token('HS256', { role => 'admin' },
                       { key => $rsa_public_pem, kid => 'rs-any' }),
    expired   => token('ES256', { iat => time - 4000, exp => time - 3600 }),
);

# the answers to a request without a token and to one with a bad token
our $NoToken = 'WWW-Authenticate: Bearer realm="identity"';
our $Expired = 'WWW-Authenticate: Bearer realm="identity", '
             . 'error="invalid_token", error_description="token expired"';
our $Malformed = 'WWW-Authenticate: Bearer realm="identity", '
               . 'error="invalid_token", error_description="malformed token"';

# long Sec-WebSocket-Protocol values, well within nginx's default
# large_client_header_buffers (4 8k): 1000 entries on one line, and 10
# lines of 100 entries each
our $Many = join ', ', ('p') x 1000;
our $Lines = join "\n",
    map { 'Sec-WebSocket-Protocol: ' . join ', ', ("l$_") x 100 } 1 .. 10;

our $HttpConfig = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        identity_strip_headers off;

        location / {
            return 200 "sub=$http_x_identity_sub\n";
        }
    }
_EOC_

our $Sources = <<'_EOC_';
    location /header {
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /cookie {
        identity_auth required;
        identity_jwt_token cookie=access_token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /any {
        identity_auth required;
        identity_jwt_token header cookie=access_token arg=access_token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

our $Protocol = <<'_EOC_';
    location /ws {
        identity_auth required;
        identity_jwt_token header arg=token protocol=bearer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /ws-first {
        identity_auth required;
        identity_jwt_token protocol=bearer header;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /ws-only {
        identity_auth required;
        identity_jwt_token protocol=bearer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /header {
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

our $Typ = <<'_EOC_';
    location /p {
        identity_auth required;
        identity_jwt_typ JWT at+jwt;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;

        location /p/any {
            identity_jwt_typ off;
            proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        }
    }
_EOC_

our $NoAlg = <<'_EOC_';
    location /p {
        identity_auth required;
        identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks-noalg.json;
        identity_jwt_algorithms ES256 RS256 RS384 PS256 HS256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location /rs1 {
        identity_auth required;
        identity_jwt_algorithms RS256 PS256;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: by default a token in a cookie is not looked at
--- http_config eval: $::HttpConfig
--- config eval: $::Sources
--- more_headers eval
"Cookie: access_token=$::t{es256}"
--- request
GET /header
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="identity"



=== TEST 2: identity_jwt_token cookie=<name> takes the token from that cookie
--- http_config eval: $::HttpConfig
--- config eval: $::Sources
--- more_headers eval
"Cookie: theme=dark; access_token=$::t{es256}; lang=en"
--- request
GET /cookie
--- response_body
sub=user-42



=== TEST 3: a source not listed is ignored (cookie only: no header)
--- http_config eval: $::HttpConfig
--- config eval: $::Sources
--- more_headers eval
"Authorization: Bearer $::t{es256}"
--- request
GET /cookie
--- error_code: 401



=== TEST 4: arg=<name> takes it from the query string
--- http_config eval: $::HttpConfig
--- config eval: $::Sources
--- request eval
"GET /any?x=1&access_token=$::t{es256}"
--- response_body
sub=user-42



=== TEST 5: the first source in the list that has a token wins
--- http_config eval: $::HttpConfig
--- config eval: $::Sources
--- more_headers eval
["Authorization: Bearer not-a-token\nCookie: access_token=$::t{es256}",
 "Authorization: Bearer $::t{es256}\nCookie: access_token=not-a-token",
 "Cookie: access_token=$::t{es256}"]
--- request eval
["GET /any", "GET /any?access_token=garbage", "GET /any?access_token=garbage"]
--- error_code eval
[401, 200, 200]



=== TEST 6: an unknown token source is a configuration error
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        identity_jwt_token header form=token;
    }
--- must_die
--- error_log
[emerg]
invalid token source "form=token"



=== TEST 7: identity_jwt_typ accepts the listed types, application/ optional
--- http_config eval: $::HttpConfig
--- config eval: $::Typ
--- more_headers eval
["Authorization: Bearer $::t{typ_jwt}", "Authorization: Bearer $::t{typ_at}"]
--- request eval
["GET /p", "GET /p"]
--- error_code eval
[200, 200]



=== TEST 8: identity_jwt_typ refuses another type and a missing one
--- http_config eval: $::HttpConfig
--- config eval: $::Typ
--- more_headers eval
["Authorization: Bearer $::t{typ_dpop}", "Authorization: Bearer $::t{es256}"]
--- request eval
["GET /p", "GET /p"]
--- error_code eval
[401, 401]
--- response_headers eval
['WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="wrong typ"',
 'WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="wrong typ"']



=== TEST 9: a typ that is not a string is malformed, even where typ is not checked
--- http_config eval: $::HttpConfig
--- config eval: $::Typ
--- more_headers eval
"Authorization: Bearer $::t{typ_num}"
--- request
GET /p/any
--- error_code: 401
--- error_log
malformed typ



=== TEST 10: identity_jwt_typ off in an inner location
--- http_config eval: $::HttpConfig
--- config eval: $::Typ
--- more_headers eval
"Authorization: Bearer $::t{es256}"
--- request
GET /p/any
--- error_code: 200



=== TEST 11: an RSA key without alg verifies RS256, RS384 and PS256
--- http_config eval: $::HttpConfig
--- config eval: $::NoAlg
--- more_headers eval
["Authorization: Bearer $::t{rs_any}", "Authorization: Bearer $::t{rs384_any}",
 "Authorization: Bearer $::t{ps_any}"]
--- request eval
["GET /p", "GET /p", "GET /p"]
--- error_code eval
[200, 200, 200]



=== TEST 12: an EC P-256 key without alg verifies ES256
--- http_config eval: $::HttpConfig
--- config eval: $::NoAlg
--- more_headers eval
"Authorization: Bearer $::t{es_any}"
--- request
GET /p
--- error_code: 200



=== TEST 13: an RSA key without alg is never an HMAC secret
--- http_config eval: $::HttpConfig
--- config eval: $::NoAlg
--- more_headers eval
"Authorization: Bearer $::t{hs_rs_any}"
--- request
GET /p
--- error_code: 401
--- error_log
algorithm does not match key



=== TEST 14: a key's alg wins: rs1 (RS256) does not verify PS256
--- http_config eval: $::HttpConfig
--- config eval: $::NoAlg
--- more_headers eval
"Authorization: Bearer $::t{ps_rs1}"
--- request
GET /rs1
--- error_code: 401
--- error_log
algorithm does not match key



=== TEST 15: protocol=<marker> takes the Sec-WebSocket-Protocol entry after it
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Sec-WebSocket-Protocol: bearer, $::t{es256}",
 "sec-websocket-protocol: bearer, $::t{es256}"]
--- request eval
["GET /ws-only", "GET /ws-only"]
--- response_body eval
["sub=user-42\n", "sub=user-42\n"]



=== TEST 16: other subprotocols before and after the marker and token
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Sec-WebSocket-Protocol: chat.v2, bearer, $::t{es256}, graphql-ws",
 "Sec-WebSocket-Protocol: graphql-ws, chat, bearer, $::t{es256}"]
--- request eval
["GET /ws-only", "GET /ws-only"]
--- response_body eval
["sub=user-42\n", "sub=user-42\n"]



=== TEST 17: the entries of several Sec-WebSocket-Protocol lines form one list
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Sec-WebSocket-Protocol: chat, bearer\nSec-WebSocket-Protocol: $::t{es256}",
 "Sec-WebSocket-Protocol: chat\nX-Other: bearer\nSec-WebSocket-Protocol: bearer, $::t{es256}\nSec-WebSocket-Protocol: graphql-ws",
 "Sec-WebSocket-Protocol: bearer\nX-Other: 1\nSec-WebSocket-Protocol: $::t{es256}, chat"]
--- request eval
["GET /ws-only", "GET /ws-only", "GET /ws-only"]
--- response_body eval
["sub=user-42\n", "sub=user-42\n", "sub=user-42\n"]



=== TEST 18: spaces and tabs around the entries are not part of them
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Sec-WebSocket-Protocol: bearer,$::t{es256}",
 "Sec-WebSocket-Protocol: chat ,bearer   ,   $::t{es256}   ,x",
 "Sec-WebSocket-Protocol: chat\t,\tbearer\t,\t$::t{es256}\t",
 "Sec-WebSocket-Protocol: \t bearer , \t$::t{es256}"]
--- request eval
["GET /ws-only", "GET /ws-only", "GET /ws-only", "GET /ws-only"]
--- response_body eval
["sub=user-42\n", "sub=user-42\n", "sub=user-42\n", "sub=user-42\n"]



=== TEST 19: the marker with no entry after it is no token: 401
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Sec-WebSocket-Protocol: chat, bearer",
 "Sec-WebSocket-Protocol: bearer",
 "Sec-WebSocket-Protocol: $::t{es256}, bearer",
 "Sec-WebSocket-Protocol: chat, $::t{es256}"]
--- request eval
["GET /ws-only", "GET /ws-only", "GET /ws-only", "GET /ws-only"]
--- error_code eval
[401, 401, 401, 401]
--- response_headers eval
[$::NoToken, $::NoToken, $::NoToken, $::NoToken]



=== TEST 20: an empty entry after the marker is no token: 401
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Sec-WebSocket-Protocol: bearer, , $::t{es256}",
 "Sec-WebSocket-Protocol: bearer,,$::t{es256}",
 "Sec-WebSocket-Protocol: chat, bearer,\nSec-WebSocket-Protocol: $::t{es256}"]
--- request eval
["GET /ws-only", "GET /ws-only", "GET /ws-only"]
--- error_code eval
[401, 401, 401]
--- response_headers eval
[$::NoToken, $::NoToken, $::NoToken]



=== TEST 21: without a token there, the next source is tried
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Sec-WebSocket-Protocol: bearer, , x\nAuthorization: Bearer $::t{es256}",
 "Sec-WebSocket-Protocol: chat, bearer\nAuthorization: Bearer $::t{es256}",
 "Sec-WebSocket-Protocol: chat\nAuthorization: Bearer $::t{es256}"]
--- request eval
["GET /ws-first", "GET /ws-first", "GET /ws-first"]
--- response_body eval
["sub=user-42\n", "sub=user-42\n", "sub=user-42\n"]



=== TEST 22: a bad token after the marker is refused: 401 invalid_token
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Sec-WebSocket-Protocol: bearer, $::t{expired}",
 "Sec-WebSocket-Protocol: bearer, not-a-token, $::t{es256}",
 "Sec-WebSocket-Protocol: bearer, bearer, $::t{es256}"]
--- request eval
["GET /ws-only", "GET /ws-only", "GET /ws-only"]
--- error_code eval
[401, 401, 401]
--- response_headers eval
[$::Expired, $::Malformed, $::Malformed]



=== TEST 23: sources keep their order: header and arg before protocol
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Authorization: Bearer not-a-token\nSec-WebSocket-Protocol: bearer, $::t{es256}",
 "Authorization: Bearer $::t{es256}\nSec-WebSocket-Protocol: bearer, not-a-token",
 "Sec-WebSocket-Protocol: bearer, $::t{es256}",
 "Sec-WebSocket-Protocol: bearer, not-a-token",
 "Sec-WebSocket-Protocol: bearer, $::t{es256}"]
--- request eval
["GET /ws", "GET /ws", "GET /ws?token=garbage", "GET /ws?token=$::t{es256}",
 "GET /ws"]
--- error_code eval
[401, 200, 401, 200, 200]



=== TEST 24: sources keep their order: protocol before header
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Sec-WebSocket-Protocol: bearer, $::t{es256}\nAuthorization: Bearer not-a-token",
 "Sec-WebSocket-Protocol: bearer, $::t{expired}\nAuthorization: Bearer $::t{es256}"]
--- request eval
["GET /ws-first", "GET /ws-first"]
--- error_code eval
[200, 401]
--- response_headers eval
['!WWW-Authenticate', $::Expired]



=== TEST 25: the marker is matched as a whole entry, case-sensitively
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Sec-WebSocket-Protocol: Bearer, $::t{es256}",
 "Sec-WebSocket-Protocol: bearer-v2, $::t{es256}",
 "Sec-WebSocket-Protocol: xbearer, $::t{es256}",
 "Sec-WebSocket-Protocol: bearer $::t{es256}",
 "Sec-WebSocket-Protocol: \"bearer\", $::t{es256}"]
--- request eval
["GET /ws-only", "GET /ws-only", "GET /ws-only", "GET /ws-only", "GET /ws-only"]
--- error_code eval
[401, 401, 401, 401, 401]
--- response_headers eval
[$::NoToken, $::NoToken, $::NoToken, $::NoToken, $::NoToken]



=== TEST 26: Sec-WebSocket-Protocol is not looked at unless listed
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
"Sec-WebSocket-Protocol: bearer, $::t{es256}"
--- request
GET /header
--- error_code: 401
--- response_headers eval
$::NoToken



=== TEST 27: protocol= with an empty marker is a configuration error
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        identity_jwt_token header protocol=;
    }
--- must_die
--- error_log
[emerg]
invalid token source "protocol=", the marker is empty



=== TEST 28: a marker that is no subprotocol name is a configuration error
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        identity_jwt_token "protocol=bearer, x";
    }
--- must_die
--- error_log
[emerg]
invalid token source "protocol=bearer, x", the marker is not a token



=== TEST 29: long Sec-WebSocket-Protocol values: token found, or none
--- http_config eval: $::HttpConfig
--- config eval: $::Protocol
--- more_headers eval
["Sec-WebSocket-Protocol: $::Many, bearer, $::t{es256}, $::Many",
 "Sec-WebSocket-Protocol: $::Many, bearer",
 "$::Lines\nSec-WebSocket-Protocol: bearer, $::t{es256}\n$::Lines",
 "$::Lines\nSec-WebSocket-Protocol: $::Many"]
--- request eval
["GET /ws-only", "GET /ws-only", "GET /ws-only", "GET /ws-only"]
--- error_code eval
[200, 401, 200, 401]
--- response_headers eval
['!WWW-Authenticate', $::NoToken, '!WWW-Authenticate', $::NoToken]
