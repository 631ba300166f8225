# SPDX-License-Identifier: GPL-3.0-or-later
"""The KRL engine against the real ssh-keygen (-k to write, -Q to judge).

For random revocation specs (serial lists and ranges under several CAs and any
CA, key ids, explicit keys, SHA1 and SHA256 hashes, bare key and certificate
lines, revoked CA keys):
- the KRL ssh-keygen -k writes is read by us, and our answer for every one of
  a few thousand certificates and keys is ssh-keygen -Q's answer;
- the KRL we write for the same spec is ssh-keygen's byte for byte (but for the
  generation date), so never larger, and ssh-keygen -Q judges it as we do;
- where ssh-keygen writes a KRL that OpenSSH cannot load (a serial bitmap over
  2048 bytes), we refuse it as ssh-keygen -Q does, and write a loadable one.
"""

import os
import random

import pytest

from ansible_collections.fleetca.ssh.plugins.module_utils import certs, keys, krl, krl_request, signers
from ansible_collections.fleetca.ssh.plugins.module_utils.wire import encode_string, encode_uint64

NOW = 1_800_000_000
CERT_COUNT = 2500
QUERIES_PER_KRL = 500  # ssh-keygen -Q takes ~1 ms a certificate: each spec asks about a sample
KEY_IDS = ["alice", "bob", "carol", "dave", "host-%d", "ci-runner", "web.example.com", "x y z"]
SERIAL_SPACE = 3000  # small, so that revoked serials are hit often and ranges meet


class World:
    """CAs, subject keys and certificates, all written to files for ssh-keygen."""

    def __init__(self, directory, rng):
        self.dir = str(directory)
        self.rng = rng
        kinds = [("ed25519", None), ("ed25519", None), ("ecdsa", 256), ("rsa", 2048), ("ed25519", None)]
        self.cas = [signers.KeySigner(signers.generate_private_key(kind, size)) for kind, size in kinds]
        self.ca_paths = [self.write("ca%d.pub" % i, ca.public_key.to_line()) for i, ca in enumerate(self.cas)]
        self.subjects = [keys.parse_public_key("public key", signers.public_key_line(signers.generate_private_key(kind, size)))
                         for kind, size in [("ed25519", None)] * 24 + [("ecdsa", 256)] * 5 + [("rsa", 2048)]]
        self.key_paths = [self.write("key%d.pub" % i, k.to_line()) for i, k in enumerate(self.subjects)]
        self.certs = [self.make_cert() for _index in range(CERT_COUNT)]
        self.cert_paths = [self.write("cert%d-cert.pub" % i, c.to_line()) for i, c in enumerate(self.certs)]

    def write(self, name, line):
        path = os.path.join(self.dir, name)
        with open(path, "w") as handle:
            handle.write(line + "\n")
        return path

    def make_cert(self):
        rng = self.rng
        ca = rng.choice(self.cas)
        key_id = rng.choice(KEY_IDS).replace("%d", str(rng.randint(1, 5)))
        serial = 0 if rng.random() < 0.04 else rng.randint(1, SERIAL_SPACE)
        request = certs.CertRequest(certs.USER_CERT, rng.choice(self.subjects), ["someone"], key_id,
                                    NOW - 300, NOW + 3600)
        tbs = certs.tbs_blob(request, serial, ca.public_key, os.urandom(certs.NONCE_LEN))
        return certs.parse_certificate_blob(tbs + encode_string(ca.sign(tbs)))

    def queries(self, rng):
        """(path, key or certificate) to ask ssh-keygen -Q about: every key, a sample of the certificates."""
        sample = rng.sample(list(zip(self.cert_paths, self.certs)), QUERIES_PER_KRL)
        return (sample + list(zip(self.key_paths, self.subjects))
                + [(p, ca.public_key) for p, ca in zip(self.ca_paths, self.cas)])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return World(tmp_path_factory.mktemp("krl-world"), random.Random(20260301))


# --- ssh-keygen --------------------------------------------------------------

def keygen_build(run_cmd, path, invocations):
    """Run ssh-keygen -k once per (ca .pub path or "none", spec lines), updating with -u."""
    for index, (ca_path, lines) in enumerate(invocations):
        spec = "%s.spec%d" % (path, index)
        with open(spec, "w") as handle:
            handle.write("".join(line + "\n" for line in lines))
        run_cmd(["ssh-keygen", "-q", "-k", "-f", path, "-s", ca_path] + (["-u"] if index else []) + [spec])
    with open(path, "rb") as handle:
        return handle.read()


def keygen_query(run_cmd, krl_path, paths):
    """{path: revoked?} from ssh-keygen -Q; an AssertionError with its message if it cannot load the KRL."""
    result = run_cmd(["ssh-keygen", "-Q", "-f", krl_path] + list(paths), check=False)
    if result.returncode not in (0, 1):
        raise AssertionError("ssh-keygen -Q failed: %s" % result.stderr.strip())
    lines = result.stdout.splitlines()  # "PATH (COMMENT): ok|REVOKED", in argument order
    assert len(lines) == len(paths), result.stdout[-2000:]
    verdicts = {}
    for path, line in zip(paths, lines):
        assert line.startswith(path) and line.endswith((": ok", ": REVOKED")), line
        verdicts[path] = line.endswith(": REVOKED")
    return verdicts


def assert_same_judgement(run_cmd, world, krl_path, model, seed=0, discriminating=True):
    queries = world.queries(random.Random(seed))
    theirs = keygen_query(run_cmd, krl_path, [path for path, _key in queries])
    ours = dict((p, model.check(k) is not None) for p, k in queries)
    differ = [(p, theirs[p], model.check(k)) for p, k in queries if theirs[p] != ours[p]]
    assert not differ, differ[:5]
    revoked = sum(ours.values())
    assert revoked < len(queries) and (revoked > 0 or not discriminating)
    return revoked


# --- random specs, mirrored in our model ------------------------------------

class Spec:
    """A random revocation spec: ssh-keygen -k invocations and the same revocations in a Krl.

    Entries are applied to the Krl in spec order, so that certificate sections appear
    in the order ssh-keygen creates them.
    """

    def __init__(self, world, rng, dense=False):
        """`dense`: one CA, and serials so dense that ssh-keygen writes an unloadable
        bitmap (then even ssh-keygen -k -u refuses to update it)."""
        self.world, self.rng = world, rng
        self.model = krl.Krl(version=0)
        self.pending = {}  # CA blob -> serial ranges, set on the model at the end
        self.invocations = []
        cas = rng.sample(range(len(world.cas) - 1), 1 if dense else rng.randint(1, 3))  # never the last CA
        first = True
        for ca_index in cas:
            lines = self.cert_lines(world.cas[ca_index].public_key.blob, dense)
            if first:
                lines += self.key_lines()
                first = False
            self.invocations.append((world.ca_paths[ca_index], lines))
        if rng.random() < 0.6 and not dense:
            self.invocations.append(("none", self.cert_lines(b"", dense)))
        for ca_blob, pairs in self.pending.items():
            self.model.cert_section(ca_blob).serials = krl.SerialSet.from_ranges(pairs)

    def cert_lines(self, ca_blob, dense):
        rng, lines = self.rng, []
        for _index in range(rng.randint(0, 40) if not dense else 0):
            serial = rng.randint(1, SERIAL_SPACE)
            lines.append(self.revoke_serials(ca_blob, serial, serial))
        for _index in range(rng.randint(0, 6)):
            lo = rng.randint(1, SERIAL_SPACE)
            hi = lo + rng.choice([1, 2, 5, 30, 300])
            lines.append(self.revoke_serials(ca_blob, lo, hi))
        if dense:
            for serial in range(1, 200000, rng.choice([3, 5, 9])):
                lines.append(self.revoke_serials(ca_blob, serial, serial))
        for _index in range(rng.randint(0, 3)):
            key_id = rng.choice(KEY_IDS).replace("%d", str(rng.randint(1, 5)))
            self.model.cert_section(ca_blob, create=True).key_ids.add(key_id)
            lines.append("id: %s" % key_id)
        return lines

    def revoke_serials(self, ca_blob, lo, hi):
        self.model.cert_section(ca_blob, create=True)  # sections come in the order first touched
        self.pending.setdefault(ca_blob, []).append((lo, hi))
        return "serial: %d" % lo if lo == hi else "serial: %d-%d" % (lo, hi)

    def key_lines(self):
        rng, world, model, lines = self.rng, self.world, self.model, []
        for key in rng.sample(world.subjects, 6):
            how = rng.choice(["key", "sha1", "sha256", "hash", "bare"])
            if how == "hash":
                lines.append("hash: %s" % key.fingerprint)
                model.sha256s.add(key.sha256)
            else:
                lines.append(("%s: %s" % (how, key.to_line())) if how != "bare" else key.to_line())
                {"key": model.keys, "bare": model.keys, "sha1": model.sha1s, "sha256": model.sha256s}[how].add(
                    {"sha1": key.sha1, "sha256": key.sha256}.get(how, key.blob))
        for cert in rng.sample(world.certs, 10):  # bare certificate lines: serial, or key id at serial 0
            lines.append(cert.to_line())
            if cert.serial:
                self.revoke_serials(cert.signature_key.blob, cert.serial, cert.serial)
            else:
                model.cert_section(cert.signature_key.blob, create=True).key_ids.add(cert.key_id)
        if rng.random() < 0.3:
            ca = rng.choice(world.cas[:-1]).public_key
            lines.append("key: %s" % ca.to_line())
            model.keys.add(ca.blob)
        return lines


def same_but_generated_date(ours, theirs):
    offset = len(krl.KRL_MAGIC) + 4 + 8  # magic, format version, krl version
    return ours[:offset] + theirs[offset:offset + 8] + ours[offset + 8:] == theirs


@pytest.mark.parametrize("seed", range(8))
def test_ssh_keygen_krls_read_and_written_like_ssh_keygen(world, run_cmd, tmp_path, seed):
    spec = Spec(world, random.Random(seed))
    keygen_path = str(tmp_path / "keygen.krl")
    theirs = keygen_build(run_cmd, keygen_path, spec.invocations)

    parsed = krl.parse_krl(theirs)
    revoked = assert_same_judgement(run_cmd, world, keygen_path, parsed, seed)

    ours = spec.model.to_bytes()
    assert same_but_generated_date(ours, theirs)
    assert parsed.to_bytes() == theirs
    ours_path = str(tmp_path / "ours.krl")
    with open(ours_path, "wb") as handle:
        handle.write(ours)
    assert assert_same_judgement(run_cmd, world, ours_path, spec.model, seed) == revoked


def test_dense_serials_ssh_keygen_cannot_load_are_refused_and_ours_load(world, run_cmd, tmp_path):
    spec = Spec(world, random.Random(99), dense=True)
    keygen_path = str(tmp_path / "keygen.krl")
    theirs = keygen_build(run_cmd, keygen_path, spec.invocations)
    with pytest.raises(AssertionError, match="bignum is too large"):
        keygen_query(run_cmd, keygen_path, world.cert_paths[:1])
    with pytest.raises(krl.WireError, match="larger than OpenSSH reads"):
        krl.parse_krl(theirs)
    ours_path = str(tmp_path / "ours.krl")
    with open(ours_path, "wb") as handle:
        handle.write(spec.model.to_bytes())
    assert assert_same_judgement(run_cmd, world, ours_path, spec.model) > 0
    assert len(spec.model.to_bytes()) < len(theirs) * 1.02  # restarting bitmaps costs ~1%


def test_module_revocations_are_judged_by_ssh_keygen_as_by_us(world, run_cmd, tmp_path):
    """What the krl module builds (Revocations + Krl.revoke/unrevoke), through ssh-keygen -Q."""
    rng = random.Random(7)
    ca_line = world.cas[0].public_key.to_line()
    current = krl.Krl()
    current.revoke(krl_request.build_revocations(
        ca_public_key=ca_line, serials=[5, "100-200", "1000-2999"], key_ids=["alice"],
        public_keys=[world.subjects[0].to_line(), world.certs[0].to_line(), world.certs[1].to_line()],
        sha256_fingerprints=[world.subjects[1].fingerprint]))
    current.revoke(krl_request.build_revocations(serials=["150-160", str(rng.randint(1, SERIAL_SPACE))], key_ids=["bob"]))
    current.unrevoke(krl_request.build_revocations(ca_public_key=ca_line, serials=["120-130", "1500", "2000-2100"],
                                                   public_keys=[world.subjects[0].to_line()]))
    path = str(tmp_path / "module.krl")
    with open(path, "wb") as handle:
        handle.write(current.to_bytes())
    assert assert_same_judgement(run_cmd, world, path, krl.parse_krl(current.to_bytes())) > 0
    assert list(current.cert_sections[world.cas[0].public_key.blob].serials.ranges())[:4] == [
        (5, 5), (100, 119), (131, 200), (1000, 1499)]


def test_hand_made_krl_with_every_subsection_kind(world, run_cmd, tmp_path):
    """A list, a range and a bitmap in one section, as ssh-keygen reads them."""
    blob = world.cas[1].public_key.blob
    body = (encode_string(blob) + encode_string(b"")
            + bytes([krl.CERT_SERIAL_LIST]) + encode_string(encode_uint64(3) + encode_uint64(1))
            + bytes([krl.CERT_SERIAL_RANGE]) + encode_string(encode_uint64(10) + encode_uint64(20))
            + bytes([krl.CERT_SERIAL_BITMAP]) + encode_string(encode_uint64(100) + encode_string(b"\x05")))
    data = krl.Krl(version=1).to_bytes() + bytes([krl.SECTION_CERTIFICATES]) + encode_string(body)
    path = str(tmp_path / "hand.krl")
    with open(path, "wb") as handle:
        handle.write(data)
    parsed = krl.parse_krl(data)
    assert list(parsed.cert_sections[blob].serials.ranges()) == [(1, 1), (3, 3), (10, 20), (100, 100), (102, 102)]
    assert_same_judgement(run_cmd, world, path, parsed, discriminating=False)
