"""peluit.ground.wsgi: the request guards the three apps share."""

from peluit.ground.wsgi import clean_cookie_header, url_is_utf8


def test_cookie_header_keeps_well_formed_pairs_only():
    env = {"HTTP_COOKIE": 'lang=en; junk; a="b"; x=' + "<" * 50 + "; s=tok_1.2~"}
    clean_cookie_header(env)
    assert env["HTTP_COOKIE"] == 'lang=en; a="b"; s=tok_1.2~'


def test_cookie_header_is_bounded_and_linear():
    env = {"HTTP_COOKIE": "; ".join(f"c{i}=v" for i in range(100)) + "; " + "=" * 200_000}
    clean_cookie_header(env, max_pairs=8)
    assert env["HTTP_COOKIE"].count("=") == 8


def test_no_cookie_header_stays_absent():
    env = {}
    clean_cookie_header(env)
    assert "HTTP_COOKIE" not in env


def test_url_must_be_utf8():
    assert url_is_utf8({"PATH_INFO": "/status", "QUERY_STRING": "lang=id"})
    assert url_is_utf8({"PATH_INFO": "/caf\xc3\xa9"})  # UTF-8 bytes as WSGI's latin-1
    assert not url_is_utf8({"PATH_INFO": "/\xff"})
    assert not url_is_utf8({"PATH_INFO": "/", "QUERY_STRING": "q=%ff"})
    assert not url_is_utf8({"PATH_INFO": "/\u0100"})  # not even latin-1
