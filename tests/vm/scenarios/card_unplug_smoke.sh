# card_unplug_smoke.sh (guest; with --crypto-card card0 and card_unplug_smoke.hook on the
# host): the virtio-crypto card's driver registers cbc(aes); after the host pulls the card
# out with QMP device_del, the driver leaves /proc/crypto.

. vm-lib.sh

wait_until 10 "no $card_driver in /proc/crypto" card_present
echo "card: $card_driver registered"

vm-signal card-ready
vm-wait-host card-pulled 120

wait_until 30 "$card_driver still in /proc/crypto 30s after device_del" card_absent
echo "card: $card_driver gone after device_del"
