# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-vault format 1.1 (AES256) encryption for modules.

Modules may not import ``ansible.parsing.vault`` (ansible-test sanity and ansible-lint
forbid it: a module runs where only ``ansible.module_utils`` is guaranteed), so this is
the same format written with the ``cryptography`` library: PBKDF2-HMAC-SHA256 (10000
iterations, 32-byte random salt) derives an AES-256 key, an HMAC-SHA256 key and the CTR
IV; the plaintext is PKCS7-padded, encrypted with AES-256-CTR and authenticated with
HMAC-SHA256.  Files written here decrypt with ``ansible-vault view`` and ``VaultLib``,
and vault files written by ansible decrypt here (the unit tests check both ways).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import os

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.hmac import HMAC
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - exercised by ansible-test import sanity
    HAS_CRYPTOGRAPHY = False

    class InvalidSignature(Exception):
        """Stand-in so that the except clauses below stay valid without the library."""

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import MissingDependency

HEADER = b"$ANSIBLE_VAULT"
_KEY_LENGTH = 32
_IV_LENGTH = 16
_ITERATIONS = 10000


class VaultDecryptError(Exception):
    """Not a vault 1.1/1.2 AES256 text, or the password does not match (HMAC differs)."""


def _keys(password, salt):
    if not HAS_CRYPTOGRAPHY:
        raise MissingDependency("cryptography")
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=2 * _KEY_LENGTH + _IV_LENGTH, salt=salt, iterations=_ITERATIONS)
    derived = kdf.derive(password)
    return derived[:_KEY_LENGTH], derived[_KEY_LENGTH:2 * _KEY_LENGTH], derived[2 * _KEY_LENGTH:]


def encrypt(plaintext, password, salt=None):
    """Vault text (bytes, 80-column lines after the header) of ``plaintext`` (bytes)."""
    salt = salt or os.urandom(32)
    key1, key2, iv = _keys(password, salt)
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    encryptor = Cipher(algorithms.AES(key1), modes.CTR(iv)).encryptor()
    ciphertext = encryptor.update(padder.update(plaintext) + padder.finalize()) + encryptor.finalize()
    mac = HMAC(key2, hashes.SHA256())
    mac.update(ciphertext)
    body = binascii.hexlify(b"\n".join([binascii.hexlify(salt), binascii.hexlify(mac.finalize()),
                                        binascii.hexlify(ciphertext)]))
    lines = [HEADER + b";1.1;AES256"] + [body[i:i + 80] for i in range(0, len(body), 80)] + [b""]
    return b"\n".join(lines)


def decrypt(vaulttext, password):
    """Plaintext (bytes) of a vault text; :class:`VaultDecryptError` for a bad text or password."""
    lines = vaulttext.strip().split(b"\n")
    header = lines[0].strip().split(b";")
    if header[0] != HEADER or len(header) < 3 or header[1] not in (b"1.1", b"1.2") or header[2].strip() != b"AES256":
        raise VaultDecryptError("not an ansible-vault AES256 text")
    try:
        salt, crypted_mac, ciphertext = binascii.unhexlify(b"".join(line.strip() for line in lines[1:])).split(b"\n", 2)
        salt, crypted_mac, ciphertext = (binascii.unhexlify(salt), binascii.unhexlify(crypted_mac),
                                         binascii.unhexlify(ciphertext))
    except (ValueError, TypeError, binascii.Error):
        raise VaultDecryptError("the vault text is damaged")
    key1, key2, iv = _keys(password, salt)
    mac = HMAC(key2, hashes.SHA256())
    mac.update(ciphertext)
    try:
        mac.verify(crypted_mac)
    except InvalidSignature:
        raise VaultDecryptError("HMAC verification failed (wrong password?)")
    decryptor = Cipher(algorithms.AES(key1), modes.CTR(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()
