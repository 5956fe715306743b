# harness_oops_once.sh (guest; run by retry-policy-check.sh): the guest kernel "oopses" on
# the first boot and the scenario then fails; the second boot passes. run-vm.sh must count
# the first boot as a guest that never reached the end and boot a second time. The oops is
# a line written to /dev/kmsg: the kernel prints it on the console with its timestamp,
# exactly as it prints a real one, and the guest stays whole.
if [ "${UBLKCRYPT_VM_BOOT:-1}" = 1 ]; then
    echo "<1>Oops: harness_oops_once: a pretend oops on boot 1" >/dev/kmsg
    # A real oops comes with its trace, often many: more console than a pipe holds after the
    # first oops line (run-vm.sh once died of SIGPIPE reading such a console).
    i=0
    while [ $i -lt 1200 ]; do
        echo "harness_oops_once: console filler line $i, as long as a line of an oops trace"
        i=$((i + 1))
    done
    echo "harness_oops_once: its checks pass, then no_oops fails the boot"
    . vm-lib.sh
    no_oops
fi
echo "harness_oops_once: boot $UBLKCRYPT_VM_BOOT passes"
