# harness_fails.sh (guest; run by retry-policy-check.sh): a scenario that fails on its own,
# as one that caught wrong data does. run-vm.sh must report its exit status after one boot.
echo "harness_fails: failing on purpose (boot ${UBLKCRYPT_VM_BOOT:-?})"
exit 1
