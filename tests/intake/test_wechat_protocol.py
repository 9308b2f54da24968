"""The WeChat protocol layer against the example vectors published with the official sample code."""

from __future__ import annotations

import pytest

from hotline.intake.wechat.protocol import (
    Account,
    MessageCrypto,
    ProtocolError,
    check_signature,
    check_timestamp,
    parse_xml,
    sign,
)

# The public-platform sample's vector (token, EncodingAESKey, appid, timestamp, nonce, msg_signature, Encrypt).
SAMPLE = Account(
    app_id="wx2c2769f8efd9abc2",
    token="spamtest",
    encoding_aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
)
SAMPLE_TIMESTAMP = "1409735669"
SAMPLE_NONCE = "1320562132"
SAMPLE_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXp"
    "bUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn"
    "6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1Dl"
    "D+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)


def test_the_official_sample_decrypts_to_its_message():
    message = MessageCrypto(SAMPLE).decrypt(
        encrypt=SAMPLE_ENCRYPT, msg_signature=SAMPLE_SIGNATURE, timestamp=SAMPLE_TIMESTAMP, nonce=SAMPLE_NONCE
    )
    fields = parse_xml(message)
    assert fields["MsgType"] == "text"
    assert fields["ToUserName"] == "gh_10f6c3c3ac5a"
    assert fields["FromUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert fields["Content"] == "abcdteT"


def test_a_wrong_signature_or_appid_is_refused():
    crypto = MessageCrypto(SAMPLE)
    with pytest.raises(ProtocolError) as bad:
        crypto.decrypt(
            encrypt=SAMPLE_ENCRYPT, msg_signature="0" * 40, timestamp=SAMPLE_TIMESTAMP, nonce=SAMPLE_NONCE
        )
    assert bad.value.code == "bad_signature"
    other = MessageCrypto(
        Account(app_id="wx0000000000000000", token=SAMPLE.token, encoding_aes_key=SAMPLE.encoding_aes_key)
    )
    with pytest.raises(ProtocolError) as wrong_app:
        other.decrypt(
            encrypt=SAMPLE_ENCRYPT,
            msg_signature=SAMPLE_SIGNATURE,
            timestamp=SAMPLE_TIMESTAMP,
            nonce=SAMPLE_NONCE,
        )
    assert wrong_app.value.code == "bad_appid"


def test_replies_round_trip_with_chinese_text():
    crypto = MessageCrypto(SAMPLE)
    reply = "<xml><Content><![CDATA[已收到您的诉求，工单号 20261206-0001]]></Content></xml>"
    envelope = parse_xml(crypto.encrypt(reply, timestamp="1700000000", nonce="abc").encode())
    assert envelope["MsgSignature"] == sign(SAMPLE.token, "1700000000", "abc", envelope["Encrypt"])
    back = crypto.decrypt(
        encrypt=envelope["Encrypt"],
        msg_signature=envelope["MsgSignature"],
        timestamp="1700000000",
        nonce="abc",
    )
    assert back.decode() == reply


@pytest.mark.parametrize(
    "payload",
    ["!!!not-base64", "QUJD", "A" * 44],
)
def test_garbage_ciphertext_gets_a_defined_error(payload):
    signature = sign(SAMPLE.token, "1", "n", payload)
    with pytest.raises(ProtocolError) as err:
        MessageCrypto(SAMPLE).decrypt(encrypt=payload, msg_signature=signature, timestamp="1", nonce="n")
    assert err.value.code == "bad_payload"


def test_plain_mode_signature_and_timestamp_window():
    check_signature(sign("tok", "1700000000", "n"), "tok", "1700000000", "n")
    with pytest.raises(ProtocolError):
        check_signature("deadbeef", "tok", "1700000000", "n")
    check_timestamp("1700000000", now=1700000299)
    with pytest.raises(ProtocolError) as stale:
        check_timestamp("1700000000", now=1700000301)
    assert stale.value.code == "stale_timestamp"
    with pytest.raises(ProtocolError):
        check_timestamp("abc", now=1700000000)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml><Content>&b;</Content></xml>',
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>',
        b"<xml><Content>unclosed",
        b"<html></html>",
        b"<xml>" + b"<a>x</a>" * 20000 + b"</xml>",
    ],
)
def test_hostile_xml_is_refused(body):
    with pytest.raises(ProtocolError):
        parse_xml(body)
