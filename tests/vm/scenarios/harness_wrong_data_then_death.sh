# harness_wrong_data_then_death.sh (guest; run by retry-policy-check.sh): the scenario
# reports wrong data and goes on, as one counting every bad case does, and then the guest
# kernel dies before the exit marker. run-vm.sh must not boot it again: a second, lucky
# boot would hide the data.
. vm-lib.sh
wrong_data "harness_wrong_data_then_death: a block read back wrong"
echo c >/proc/sysrq-trigger
sleep 30
