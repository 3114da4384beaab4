# Roles, optional mode, identity headers towards the upstream, $identity_*
# variables, and the problem+json error_page recipe.
use IdentityJWT;
use Test::Nginx::Socket 'no_plan';

no_root_location();

our %t = (
    user    => token('ES256'),
    admin   => token('ES256', { role => 'admin', sub => 'root-1' }),
    no_role => token('ES256', { role => undef }),
    expired => token('ES256', { exp => time - 3600 }),
    custom  => token('ES256', { tenant => 'acme', level => 7, mfa => JSON::PP::true,
                                nested => { a => 1 }, email => undef }),
);

our $Exp = claims()->{exp};

our $HttpConfig = <<'_EOC_';
    identity_jwt_keys $TEST_NGINX_DATA_DIR/jwks.json;

    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        identity_strip_headers off;
        underscores_in_headers on;

        location / {
            return 200 "sub=$http_x_identity_sub role=$http_x_identity_role email=$http_x_identity_email sid=$http_x_identity_sid jti=$http_x_identity_jti exp=$http_x_identity_exp other=$http_x_identity_other\n";
        }
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: identity headers reach the upstream, forged ones do not
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{user}
X-Identity-Sub: forged-admin
x-identity-role: admin
X-Identity-Other: sneaky"
--- request
GET /p
--- response_body eval
"sub=user-42 role=user email=ada\@example.test sid=sess-1 jti=tok-1 exp=$::Exp other=\n"



=== TEST 2: identity_auth off still strips client X-Identity-* headers
--- http_config eval: $::HttpConfig
--- config
    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers
X-Identity-Sub: forged-admin
X-Identity-Role: admin
--- request
GET /p
--- response_body
sub= role= email= sid= jti= exp= other=



=== TEST 16: X_Identity_Sub (underscores allowed) is stripped as well
--- http_config eval: $::HttpConfig
--- config
    underscores_in_headers on;

    location /p {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers
X_Identity_Sub: forged-admin
--- request
GET /p
--- response_body
sub= role= email= sid= jti= exp= other=



=== TEST 3: optional without token passes without identity, forged stripped
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth optional;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers
X-Identity-Sub: forged-admin
--- request
GET /p
--- response_body
sub= role= email= sid= jti= exp= other=



=== TEST 4: optional with a valid token forwards the identity
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth optional;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{user}"
--- request
GET /p
--- response_body_like: ^sub=user-42 role=user



=== TEST 5: optional with an invalid token is 401
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth optional;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{expired}"
--- request
GET /p
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="token expired"



=== TEST 6: an allowed role passes
--- http_config eval: $::HttpConfig
--- config
    location /admin {
        identity_auth required;
        identity_role admin support;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{admin}"
--- request
GET /admin
--- response_body_like: ^sub=root-1 role=admin



=== TEST 7: another role is 403 insufficient_scope
--- http_config eval: $::HttpConfig
--- config
    location /admin {
        identity_auth required;
        identity_role admin support;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{user}"
--- request
GET /admin
--- error_code: 403
--- response_headers
WWW-Authenticate: Bearer realm="identity", error="insufficient_scope"
--- error_log
role "user" of "user-42" not allowed



=== TEST 8: no role claim is 403 where roles are required
--- http_config eval: $::HttpConfig
--- config
    location /admin {
        identity_auth required;
        identity_role admin;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{no_role}"
--- request
GET /admin
--- error_code: 403



=== TEST 9: variables in add_header after a verified request
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        add_header X-Sub $identity_sub;
        add_header X-Role $identity_role;
        add_header X-Sid $identity_sid;
        add_header X-Jti $identity_jti;
        add_header X-Exp $identity_exp;
        add_header X-Email $identity_email;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{user}"
--- request
GET /p
--- response_headers eval
"X-Sub: user-42
X-Role: user
X-Sid: sess-1
X-Jti: tok-1
X-Exp: $::Exp
X-Email: ada\@example.test"



=== TEST 10: variables verify on demand in return (rewrite phase, auth off)
--- http_config eval: $::HttpConfig
--- config
    location /whoami {
        return 200 "$identity_sub/$identity_role/$identity_claim_tenant/$identity_claim_level/$identity_claim_mfa\n";
    }
--- more_headers eval
"Authorization: Bearer $::t{custom}"
--- request
GET /whoami
--- response_body
user-42/user/acme/7/true



=== TEST 11: absent claims and objects are not found (empty)
--- http_config eval: $::HttpConfig
--- config
    location /whoami {
        return 200 "[$identity_email][$identity_claim_nested][$identity_claim_nope]\n";
    }
--- more_headers eval
"Authorization: Bearer $::t{custom}"
--- request
GET /whoami
--- response_body
[][][]



=== TEST 12: an invalid token gives no identity to variables
--- http_config eval: $::HttpConfig
--- config
    location /whoami {
        return 200 "[$identity_sub][$identity_exp]\n";
    }
--- more_headers eval
"Authorization: Bearer $::t{expired}"
--- request
GET /whoami
--- response_body
[][]



=== TEST 13: problem+json through error_page keeps WWW-Authenticate
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        error_page 401 = @identity_401;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location @identity_401 {
        default_type application/problem+json;
        return 401 '{"type":"about:blank","title":"Unauthorized","status":401,"detail":"$identity_error","code":"unauthorized"}\n';
    }
--- more_headers eval
"Authorization: Bearer $::t{expired}"
--- request
GET /p
--- error_code: 401
--- response_headers
Content-Type: application/problem+json
WWW-Authenticate: Bearer realm="identity", error="invalid_token", error_description="token expired"
--- response_body
{"type":"about:blank","title":"Unauthorized","status":401,"detail":"token expired","code":"unauthorized"}



=== TEST 14: problem+json 403 through error_page keeps insufficient_scope
--- http_config eval: $::HttpConfig
--- config
    location /admin {
        identity_auth required;
        identity_role admin;
        error_page 403 = @identity_403;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }

    location @identity_403 {
        default_type application/problem+json;
        return 403 '{"type":"about:blank","title":"Forbidden","status":403,"detail":"$identity_error","code":"forbidden"}\n';
    }
--- more_headers eval
"Authorization: Bearer $::t{user}"
--- request
GET /admin
--- error_code: 403
--- response_headers
Content-Type: application/problem+json
WWW-Authenticate: Bearer realm="identity", error="insufficient_scope"
--- response_body
{"type":"about:blank","title":"Forbidden","status":403,"detail":"role not allowed","code":"forbidden"}



=== TEST 15: satisfy any: an allow rule grants without a token
--- http_config eval: $::HttpConfig
--- config
    location /p {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        identity_auth required;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- request
GET /p
--- error_code: 200
--- response_headers
!WWW-Authenticate



=== TEST 17: after an internal redirect the identity is still known
--- http_config eval: $::HttpConfig
--- config
    location /p {
        identity_auth required;
        try_files /nonexistent @up;
    }

    location @up {
        identity_auth required;
        add_header X-Sub $identity_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- more_headers eval
"Authorization: Bearer $::t{user}
X-Identity-Sub: forged"
--- request
GET /p
--- response_headers
X-Sub: user-42
--- response_body_like: ^sub=user-42 role=user
