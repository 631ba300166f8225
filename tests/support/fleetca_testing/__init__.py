"""Helpers of the interop tests, one module per concern (pytest-free; tests/interop/conftest.py
turns them into fixtures).

- commands: run a command, find the venv's tools, the collections root under test.
- accounts: the session's real login account.
- openssh_keys: ssh-keygen key pairs, `ssh-keygen -L`, signing with the engine in-process.
- sshd: real sshd servers on loopback ports.
- ssh_client: the real ssh client and what one login did on both ends.
- ssh_agent: real ssh-agents holding given keys.
- ansible_runner: ansible-playbook runs against localhost with every task's result.
"""
