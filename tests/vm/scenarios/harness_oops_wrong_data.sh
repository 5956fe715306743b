# harness_oops_wrong_data.sh (guest; run by retry-policy-check.sh): the guest kernel
# "oopses" and the scenario also reports wrong data. run-vm.sh must end after this one
# boot with the scenario's exit 1: a retry would let a second, lucky boot hide the data.
echo "<1>Oops: harness_oops_wrong_data: a pretend oops" >/dev/kmsg
echo "FAIL: harness_oops_wrong_data: a block read back wrong"
exit 1
