"""Secrets corpus: realistic secrets of many families, planted through every API channel,
reach no git object; and value-gated rules leave code that only names a secret alone."""

from __future__ import annotations

import base64
import json
import random
import string
import subprocess
from pathlib import Path

import pytest

from ledger import ChangeLogger, ChangeType
from ledger.trust.redact import Redactor, is_secret_name

RNG = random.SystemRandom()
ALNUM = string.ascii_letters + string.digits


def r(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def hexs(n: int) -> str:
    return r(n, "0123456789abcdef")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def secrets_corpus() -> dict[str, tuple[str, str]]:
    """kind -> (text carrying the secret, the secret)."""
    up = string.ascii_uppercase + string.digits
    s: dict[str, str] = {
        "aws-id": "AKIA" + r(16, up),
        "aws-sts-id": "ASIA" + r(16, up),
        "github": "ghp_" + r(36),
        "github-pat": "github_pat_" + r(22) + "_" + r(59),
        "gitlab": "glpat-" + r(20),
        "slack-bot": "xoxb-" + r(12, string.digits) + "-" + r(24),
        "slack-app": "xapp-1-A" + r(10, up) + "-" + r(13, string.digits) + "-" + hexs(64),
        "stripe": "sk_live_" + r(24),
        "stripe-whsec": "whsec_" + r(32),
        "pypi": "pypi-AgEIcHlwaS5vcmc" + r(60, ALNUM + "_-"),
        "sendgrid": "SG." + r(22) + "." + r(43),
        "vault": "hvs." + r(24),
        "google-oauth": "ya29." + r(60, ALNUM + "_-"),
        "google-api": "AIza" + r(35),
        "openai": "sk-proj-" + r(48),
        "anthropic": "sk-ant-api03-" + r(80),
        "npm": "npm_" + r(36),
        "hf": "hf_" + r(34, string.ascii_letters),
        "digitalocean": "dop_v1_" + hexs(64),
        "shopify": "shpat_" + hexs(32),
        "twilio": "SK" + hexs(32),
        "doppler": "dp.pt." + r(43),
        "age": "AGE-SECRET-KEY-1" + r(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"),
        "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ" + r(20) + "." + r(43),
    }
    out = {k: (v, v) for k, v in s.items()}
    pw = r(20)
    aws_secret = r(40, ALNUM + "/+")
    out |= {
        "redis-empty-user": (f"redis://:{pw}@cache:6379/0", pw),
        "postgres-url": (f"postgres://app:{(p := r(18))}@db/app", p),
        "camel-secret": (f'{{"SecretAccessKey": "{aws_secret}"}}', aws_secret),
        "session-token": (f'"SessionToken": "{(p := r(120))}"', p),
        "access-token": (f"accessToken: {(p := r(32))}", p),
        "refresh-token": (f'refreshToken = "{(p := r(32))}"', p),
        "db-password": (f"dbPassword={(p := r(16))}", p),
        "pgpassword": (f"PGPASSWORD={(p := r(16))} psql -h db", p),
        "db-pass-env": (f"export DB_PASS={(p := r(16))}", p),
        "mysql-pwd": (f"MYSQL_PWD='{(p := r(16))}'", p),
        "mysql-p": (f"mysql -u root -p{(p := r(14))} app", p),
        "docker-login": (f"docker login -u bob -p {(p := r(20))} registry.io", p),
        "curl-u": (f"curl -u admin:{(p := r(16))} https://api.example.com", p),
        "sshpass": (f"sshpass -p '{(p := r(14))}' ssh host", p),
        "npmrc": (f"//registry.npmjs.org/:_authToken={(p := r(36))}", p),
        "netrc": (f"machine api.example.com login bob password {(p := r(18))}", p),
        "azure": (
            f"AccountName=x;AccountKey={(p := r(86, ALNUM + '+/'))}==;",
            p,
        ),
        "docker-auth": (
            f'{{"auths": {{"r.io": {{"auth": "{(p := b64("bob:" + r(16)))}"}}}}}}',
            p,
        ),
        "kube-key": (
            f"client-key-data: {(p := b64('-----BEGIN RSA PRIVATE KEY-----' + r(40)))}",
            p,
        ),
        "x-api-key": (f"x-api-key: {(p := r(32))}", p),
        "bearer": (f"Authorization: Bearer {(p := r(40))}", p),
    }
    return out


def all_objects(ledger: Path) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(ledger), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout


def test_every_family_through_every_channel_reaches_no_object(
    ledger_path: Path, workdir: Path
) -> None:
    corpus = secrets_corpus()
    lg = ChangeLogger(ledger_path, session_id="corpus", workdir=workdir, durable=False)
    with lg.batch():
        for kind, (text, secret) in corpus.items():
            lg.log("deployment", f"{kind}: {text}", {"note": text, "list": [text]})
            lg.log_command(text, output=text, stderr=text)
            lg.log_api_call(
                f"https://api.example.com/{kind}", "POST", {"body": text}, {"text": text}, 200
            )
            lg.log_file_change(
                f"conf/{kind}.txt", ChangeType.FILE_CREATE, after_content=text + "\n"
            )
            for style in (
                "SecretAccessKey",
                "sessionToken",
                "PGPASSWORD",
                "x-api-key",
                "client_secret",
                "DB_PASS",
            ):
                lg.log("deployment", kind, {style: secret})
        sts = {
            "Credentials": {
                "AccessKeyId": "ASIA" + r(16, string.ascii_uppercase),
                "SecretAccessKey": r(40),
                "SessionToken": r(200),
            }
        }
        lg.log_api_call("https://sts.amazonaws.com", "POST", {}, sts, 200)
    everything = all_objects(ledger_path)
    leaked = [k for k, (_t, s) in corpus.items() if s.encode() in everything]
    leaked += [k for k, v in sts["Credentials"].items() if v.encode() in everything]
    assert leaked == []


@pytest.mark.parametrize(
    "name",
    [
        "SecretAccessKey",
        "sessionToken",
        "PGPASSWORD",
        "x-api-key",
        "DB_PASS",
        "MYSQL_PWD",
        "_authToken",
        "client-key-data",
        "AccountKey",
        "auth",
        "refresh_token",
        "dbPassword",
    ],
)
def test_secret_names_in_any_style(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "max_tokens",
        "token_count",
        "tokenizer",
        "key",
        "passthrough",
        "token_url",
        "keyboard",
        "password_reset_timeout",
    ],
)
def test_names_that_are_not_secrets(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    "code",
    [
        "password: str",
        "fullToken = _match[0]",
        "SECRET_KEY = '{{ secret_key }}'",
        "<a href='?token=token'>",
        "password: true,",
        "token = self.get_token()",
        "auth = HTTPBasicAuth(user, pw)",
        "api_key = os.environ['API_KEY']",
        "password = 'pbkdf2_sha256$260000$abc$def'",
        "secret = ${SECRET}",
        "postgres://user:password@localhost/db",
        "mysql -p suffers",
        "if token == expected:",
        "Cookie: foo=deleted; expires=Thu, 01-Jan-1970 00:00:01 GMT",
    ],
)
def test_code_that_only_names_a_secret_is_left_alone(code: str) -> None:
    assert Redactor(b"k" * 32).text(code) == (code, [])


def test_spans_give_byte_ranges_and_fingerprints_of_the_original() -> None:
    redactor = Redactor(b"k" * 32)
    token = "ghp_" + r(36)
    data = f"é {token} ü\n".encode()
    result = redactor.redact_file("a.txt", data)
    (span,) = result.spans
    assert data[span.start : span.end] == token.encode()
    assert span.fingerprint == redactor.fingerprint(token) and span.rule == "github-token"
    assert json.dumps(result.rules) == '["github-token"]'
