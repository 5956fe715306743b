# harness_oops_killed.sh (guest; run by retry-policy-check.sh): on the first boot the guest
# kernel "oopses" and the scenario dies by SIGKILL in the middle, the way an oops in the
# scenario's own system call kills it (virtio_crypto's hot-unplug race does so). run-vm.sh
# must count that boot as one that never reached the end and boot a second time, which
# passes. The oops is a line written to /dev/kmsg, as in harness_oops_once.sh.
if [ "${UBLKCRYPT_VM_BOOT:-1}" = 1 ]; then
    echo "<1>Oops: harness_oops_killed: a pretend oops on boot 1" >/dev/kmsg
    echo "harness_oops_killed: killed before its checks"
    kill -KILL $$
fi
echo "harness_oops_killed: boot $UBLKCRYPT_VM_BOOT passes"
