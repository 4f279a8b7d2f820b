"""The password policy: long enough, not one of the passwords everyone tries first, not the
user's own name. Checked wherever a user chooses a password."""
from __future__ import annotations

from .i18n_labels import N_

MIN_LENGTH = 10
DEMO_PASSWORD = "demo"  # the demo users' password: kept only by them, and only outside production

# The most used passwords of public leak lists (international and Chinese sites), lower case.
COMMON = frozenset("""
123456 123456789 12345678 1234567890 12345 1234567 password password1 password123 qwerty
qwerty123 qwertyuiop 111111 000000 123123 123321 654321 666666 888888 88888888 11111111 987654321
abc123 abc123456 a123456 a123456789 aa123456 qq123456 woaini woaini1314 5201314 1314520 iloveyou
1qaz2wsx 1q2w3e4r 1q2w3e4r5t zxcvbnm asdfghjkl asd123456 admin admin123 administrator root
welcome welcome1 letmein monkey dragon football baseball sunshine princess master shadow
passw0rd p@ssw0rd p@ssword changeme secret trustno1 123qwe 123456a 123456abc abcd1234
1234qwer qwer1234 q1w2e3r4 zaq12wsx 7758521 147258369 159357 112233 121212 520520 131313
demo demo1234 demodemo test test1234 guest user 000000000 0123456789 1111111111 a1234567
aaaaaa aaaaaaaaaa abcdefg abcdefgh abcdefghij huawei123 xiaomi123 iloveyou1 superman
""".split())


def problem(password: str, *, username: str = "") -> str | None:
    """The first rule the password breaks, as a marked Chinese message; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return N_("密码至少10位")
    if password.lower() in COMMON or len(set(password)) < 4:
        return N_("这个密码太常见，容易被猜到，请换一个")
    if username and username.lower() in password.lower():
        return N_("密码不能包含用户名")
    return None
