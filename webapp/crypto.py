"""Member personal data at rest: Fernet encryption plus a keyed hash for look-ups.

One secret (MEMBER_DATA_KEY, urlsafe base64 of 32 bytes) is expanded with HKDF into
an encryption key and a separate HMAC key, so the look-up hash never reveals the cipher key.
"""
import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.types import Text, TypeDecorator

_keys: dict[str, bytes] = {}


def generate_key() -> str:
    """A fresh secret suitable for MEMBER_DATA_KEY."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def load_or_create_key(instance_dir: str) -> str:
    """Demo/test convenience: keep a generated key in instance/member.key (mode 600)."""
    path = Path(instance_dir) / "member.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generate_key())
        path.chmod(0o600)
    return path.read_text().strip()


def _derive(secret: str) -> dict[str, bytes]:
    raw = base64.urlsafe_b64decode(secret.encode())
    keys = {}
    for purpose in ("encrypt", "lookup", "fingerprint"):
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
        keys[purpose] = hkdf.derive(raw)
    keys["fernet"] = base64.urlsafe_b64encode(keys["encrypt"])
    return keys


def configure(secret: str) -> None:
    """Derive the working keys from the configured secret."""
    _keys.update(_derive(secret))


def fingerprint(secret: str | None = None) -> str:
    """Names a key without revealing it (its own HKDF branch): the database keeps the fingerprint
    of the key its member data is encrypted with, so a lost or wrong key is refused at start."""
    keys = _derive(secret) if secret else _keys
    if "fingerprint" not in keys:
        raise RuntimeError("MEMBER_DATA_KEY is not configured")
    return hmac.new(keys["fingerprint"], b"member-data-key", hashlib.sha256).hexdigest()[:32]


def can_decrypt(token: str) -> bool:
    """Whether the configured key reads this stored token."""
    try:
        _fernet().decrypt(token.encode())
        return True
    except InvalidToken:
        return False


class Rotator:
    """Re-encrypts tokens from an old key to a new one; a token already under the new key is
    accepted too, so an interrupted rotation can simply run again."""

    def __init__(self, old_secret: str, new_secret: str):
        self._new = _derive(new_secret)
        self._multi = MultiFernet([Fernet(self._new["fernet"]), Fernet(_derive(old_secret)["fernet"])])

    def rotate(self, token: str | None) -> str | None:
        return self._multi.rotate(token.encode()).decode() if token else token

    def plain(self, token: str | None) -> str | None:
        return self._multi.decrypt(token.encode()).decode() if token else token

    def lookup_hash(self, normalised: str) -> str:
        return hmac.new(self._new["lookup"], normalised.encode(), hashlib.sha256).hexdigest()


def _fernet() -> Fernet:
    if "fernet" not in _keys:
        raise RuntimeError("MEMBER_DATA_KEY is not configured")
    return Fernet(_keys["fernet"])


def encrypt(text: str | None) -> str | None:
    """Encrypt a string; None and empty stay as they are."""
    if not text:
        return text
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str | None) -> str | None:
    """Decrypt a stored token; a token from another key reads as None rather than crashing a page."""
    if not token:
        return token
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def lookup_hash(normalised: str) -> str:
    """Keyed hash of an already-normalised value (e.g. an E.164 mobile)."""
    if "lookup" not in _keys:
        raise RuntimeError("MEMBER_DATA_KEY is not configured")
    return hmac.new(_keys["lookup"], normalised.encode(), hashlib.sha256).hexdigest()


class Encrypted(TypeDecorator):
    """A Text column whose value is encrypted before it reaches the database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return encrypt(value)

    def process_result_value(self, value, dialect):
        return decrypt(value)


def mask_mobile(mobile: str | None) -> str:
    """138****5678 — enough to recognise, not enough to call."""
    if not mobile:
        return ""
    digits = mobile[-11:]
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else "****"


def mask_text(value: str | None, keep: int = 1) -> str:
    """Keep the first characters of an address or e-mail, hide the rest."""
    if not value:
        return ""
    return value[:keep] + "*" * min(8, max(3, len(value) - keep))


def mask_days(value: str | None) -> str:
    """Anniversaries as shown masked: the names stay, the days ("05-20") become **-**."""
    import re

    return re.sub(r"\d{2}-\d{2}", "**-**", value or "")
