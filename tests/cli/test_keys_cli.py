"""`isnad keys add/list/revoke`: the key is printed once on the last line and never listed."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from isnad.cli.main import cli
from isnad.service import keys


def test_keys_add_list_revoke_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    runner = CliRunner()
    added = runner.invoke(cli, ["keys", "add", "--scope", "read", "--keys-file", str(path), "--label", "desk"])
    assert added.exit_code == 0, added.output
    key = added.output.strip().splitlines()[-1]
    assert keys.verify(keys.load(path), key) == "read"
    listed = runner.invoke(cli, ["keys", "list"], env={"ISNAD_KEYS_FILE": str(path)})
    assert listed.exit_code == 0, listed.output
    (key_id, scope, _created, label), = (line.split("\t") for line in listed.output.strip().splitlines())
    assert (scope, label) == ("read", "desk") and key not in listed.output
    assert keys.hash_key(key) not in listed.output
    revoked = runner.invoke(cli, ["keys", "revoke", key_id, "--keys-file", str(path)])
    assert revoked.exit_code == 0, revoked.output
    assert keys.verify(keys.load(path), key) is None
    again = runner.invoke(cli, ["keys", "revoke", key_id, "--keys-file", str(path)])
    assert again.exit_code != 0 and "no key with id" in again.output
