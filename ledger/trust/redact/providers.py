"""Provider token rules: secrets whose own shape names them (a prefix, a fixed length, a checksum).

The families follow gitleaks' default rule set; the patterns are written for this project.
"""

from __future__ import annotations

from ledger.trust.redact.rules import Rule, rule

# Token prefixes must not sit inside a word ("task-..." is no "sk-" key), but a digit or
# punctuation glued on front does not hide a secret.
S = r"(?<![A-Za-z])"
# A token is not followed by more letters (digits may be glued on, as in front).
E = r"(?![A-Za-z])"


# Prefixes that also occur inside base64 (public keys, certificates) need a stricter start.
S64 = r"(?<![A-Za-z0-9+/])"


def token(name: str, regex: str, *keywords: str, start: str = S) -> Rule:
    """A token rule with case-sensitive prefix keywords, bounded on both sides."""
    return rule(name, rf"{start}(?:{regex}){E}", *keywords, case_sensitive=True)


_AWS_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "A3T", "AGPA", "AIDA", "AROA", "AIPA", "ANPA",
                 "ANVA", "APKA")

PRIVATE_KEY_RULES: tuple[Rule, ...] = (
    rule(
        "private-key",
        r"-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)",
        "private key",
    ),
    # A PEM private key, base64-encoded once more (kubeconfig client-key-data, k8s secrets).
    token(
        "private-key",
        r"LS0tLS1CRUdJTi(?:BSU0Eg|BFQyBQ|BPUEVOU1NIIF|BEU0Eg|BFTkNSWVBURUQg|BQUklWQVRF)"
        r"[A-Za-z0-9+/]{20,}={0,2}",
        "LS0tLS1CRUdJTi",
    ),
)

CLOUD_RULES: tuple[Rule, ...] = (
    token("aws-access-key", rf"(?:{'|'.join(p for p in _AWS_PREFIXES if p != 'A3T')}|A3T[A-Z0-9])"
          r"[A-Z0-9]{16}", *_AWS_PREFIXES),
    rule(
        "aws-secret-key",
        r"(?i)aws.{0,20}?(?:secret|key).{0,20}?[\"'\s:=]+([A-Za-z0-9/+]{40})(?![A-Za-z/+])",
        "aws",
    ),
    rule("azure-storage-key", r"(?i)AccountKey=([A-Za-z0-9+/]{80,90}={0,2})", "accountkey"),
    rule("azure-storage-key", r"(?i)SharedAccessSignature=[^;\s\"']*sig=([A-Za-z0-9%+/=]{20,})",
         "sharedaccesssignature"),
    token("azure-ad-client-secret", r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}", "Q~"),
    token("google-api-key", r"AIza[0-9A-Za-z_-]{35}", "AIza"),
    token("google-oauth-token", r"ya29\.[0-9A-Za-z_-]{20,}", "ya29."),
    token("google-oauth-token", r"1//0[0-9A-Za-z_-]{40,}", "1//0"),
    token("digitalocean-token", r"do[opr]_v1_[a-f0-9]{64}", "_v1_"),
    token("alibaba-access-key", r"LTAI[A-Za-z0-9]{20}", "LTAI"),
    token("cloudflare-origin-ca-key", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}", "v1.0-"),
    token("hashicorp-vault-token", r"hv[sbr]\.[A-Za-z0-9_-]{24,}", "hvs.", "hvb.", "hvr."),
    token("terraform-cloud-token", r"[a-z0-9]{14}\.atlasv1\.[a-z0-9_=-]{60,70}", "atlasv1"),
    token("heroku-token", r"HRKU-AA[0-9A-Za-z_-]{58}", "HRKU-"),
    token("doppler-token", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}", "dp."),
    token("openshift-token", r"sha256~[A-Za-z0-9_-]{43}", "sha256~"),
    token("pulumi-token", r"pul-[a-f0-9]{40}", "pul-"),
    token("planetscale-token", r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64}", "pscale_"),
    token("databricks-token", r"dapi[a-f0-9]{32}(?:-\d)?", "dapi"),
    token("dynatrace-token", r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}", "dt0c01."),
    token("new-relic-key", r"NRAK-[A-Z0-9]{27}|NRJS-[a-f0-9]{19}|NRII-[A-Za-z0-9_-]{32}",
          "NRAK-", "NRJS-", "NRII-"),
    token("grafana-token", r"glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"
          r"|eyJrIjoi[A-Za-z0-9]{70,400}={0,2}", "glc_", "glsa_", "eyJrIjoi"),
    token("sentry-token", r"sntrys_eyJ[A-Za-z0-9_=+/-]{80,}|sntryu_[a-f0-9]{64}", "sntry"),
    token("harness-token", r"(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
          "pat.", "sat."),
    token("infracost-token", r"ico-[A-Za-z0-9]{32}", "ico-"),
    token("prefect-token", r"pnu_[A-Za-z0-9]{36}", "pnu_"),
    token("scalingo-token", r"tk-us-[A-Za-z0-9_-]{48}", "tk-us-"),
    token("octopus-deploy-key", r"API-[A-Z0-9]{26}", "API-"),
    token("artifactory-token", r"AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59}", "AKCp", "cmVmd"),
    token("atlassian-token", r"ATATT3[A-Za-z0-9_=-]{150,}", "ATATT3"),
    token("settlemint-token", r"sm_(?:pat|aat|sat)_[A-Za-z0-9]{16}", "sm_"),
    token("defined-networking-key", r"dnkey-[a-z0-9=_-]{26}-[a-z0-9=_-]{52}", "dnkey-"),
    token("authress-key", r"(?:sc|ext|scauth|authress)_[a-z0-9]{5,30}\.[a-z0-9]{4,6}\.acc[_-]"
          r"[a-z0-9-]{10,32}\.[a-z0-9+/_=-]{30,120}", ".acc"),
)

CODE_HOST_RULES: tuple[Rule, ...] = (
    token("github-token", r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]"
          r"{22,255}", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    token("gitlab-token", r"gl(?:pat|dt|ptt|rt|cbt|soat|ft|imt|agent|oas|ffct)-[A-Za-z0-9_-]{20,}"
          r"|GR1348941[A-Za-z0-9_-]{20,}", "glpat-", "gldt-", "glptt-", "glrt-", "glcbt-",
          "glsoat-", "glft-", "glimt-", "glagent-", "gloas-", "glffct-", "GR1348941"),
    token("bitbucket-token", r"ATBB[A-Za-z0-9_=.-]{32,}", "ATBB"),
    token("sourcegraph-token", r"sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}", "sgp_"),
    token("npm-token", r"npm_[A-Za-z0-9]{36}", "npm_"),
    token("pypi-token", r"pypi-AgE[A-Za-z0-9_-]{50,}", "pypi-AgE"),
    token("rubygems-token", r"rubygems_[a-f0-9]{48}", "rubygems_"),
    token("clojars-token", r"CLOJARS_[a-z0-9]{60}", "CLOJARS_"),
    token("postman-token", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}", "PMAK-"),
    token("readme-token", r"rdme_[a-z0-9]{70}", "rdme_"),
    token("linear-token", r"lin_api_[A-Za-z0-9]{40}", "lin_api_"),
    token("notion-token", r"ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43}", "ntn_",
          "secret_"),
    token("typeform-token", r"tfp_[a-z0-9_.=-]{59}", "tfp_"),
    token("frameio-token", r"fio-u-[A-Za-z0-9_=-]{64}", "fio-u-"),
    token("onepassword-token", r"ops_eyJ[A-Za-z0-9+/]{250,}={0,3}", "ops_eyJ"),
    token("age-secret-key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
          "AGE-SECRET-KEY-1"),
)

SAAS_RULES: tuple[Rule, ...] = (
    token("slack-token", r"xox[abposre](?:\.xox[bp])?-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}",
          "xox", "xapp-"),
    rule("slack-webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/"
         r"[A-Za-z0-9+/]{20,}", "hooks.slack.com"),
    rule("discord-webhook", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/"
         r"\d+/[A-Za-z0-9_-]{60,}", "discord"),
    token("api-key", r"sk-(?:proj-|ant-(?:api\d\d-|admin\d\d-)?|svcacct-|admin-)?[A-Za-z0-9_-]"
          r"{20,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}", "sk-", "sk_live", "sk_test", "rk_live",
          "rk_test"),
    token("stripe-webhook-secret", r"whsec_[A-Za-z0-9+/=]{24,}", "whsec_"),
    token("sendgrid-key", r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", "SG."),
    token("sendinblue-key", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}", "xkeysib-"),
    token("mailchimp-key", r"[0-9a-f]{32}-us\d{1,2}", "-us"),
    token("mailgun-key", r"key-[a-f0-9]{32}|pubkey-[a-f0-9]{32}", "key-"),
    token("twilio-key", r"SK[0-9a-fA-F]{32}", "SK"),
    token("huggingface-token", r"hf_[A-Za-z]{34}|api_org_[A-Za-z]{34}", "hf_", "api_org_"),
    token("shopify-token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", "shpat_", "shpca_", "shppa_",
          "shpss_"),
    token("square-token", r"(?:EAAA|sq0atp-)[A-Za-z0-9_-]{22,60}|sq0csp-[A-Za-z0-9_-]{43}",
          "EAAA", "sq0", start=S64),
    token("facebook-token", r"EAA[MC][A-Za-z0-9]{100,}", "EAA", start=S64),
    token("mapbox-token", r"sk\.eyJ[A-Za-z0-9_-]{50,}\.[A-Za-z0-9_-]{20,}", "sk.eyJ"),
    token("flutterwave-key", r"FLW(?:SECK|PUBK)_TEST-[a-h0-9]{32}-X|FLWSECK-[a-h0-9]{32}-X",
          "FLW"),
    token("easypost-key", r"EZ[AT]K[A-Za-z0-9]{54}", "EZAK", "EZTK"),
    token("duffel-token", r"duffel_(?:test|live)_[A-Za-z0-9_=-]{43}", "duffel_"),
    token("plaid-token", r"access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-"
          r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "access-"),
    token("intra42-secret", r"s-s4t2(?:ud|af)-[a-f0-9]{64}", "s-s4t2"),
    token("maxmind-key", r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk", "_mmk"),
    token("dropbox-token", r"sl\.[A-Za-z0-9_-]{130,160}", "sl."),
    rule("telegram-bot-token", r"(?i)(?:telegram|tg_?bot|bot_?token)[\s\S]{0,40}?(?<!\d)"
         r"(\d{5,16}:A[A-Za-z0-9_-]{34})(?![A-Za-z0-9_-])", "telegram", "bot"),
    token("jwt", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*", "eyJ"),
)

PROVIDER_RULES: tuple[Rule, ...] = PRIVATE_KEY_RULES + CLOUD_RULES + CODE_HOST_RULES + SAAS_RULES
