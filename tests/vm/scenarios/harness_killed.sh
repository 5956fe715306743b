# harness_killed.sh (guest; run by retry-policy-check.sh): the scenario dies by SIGKILL with
# no oops on the console. Nothing says the guest broke, so this is the scenario's own
# failure: run-vm.sh must end after one boot with the signal's exit code (137).
echo "harness_killed: killed, no oops"
kill -KILL $$
