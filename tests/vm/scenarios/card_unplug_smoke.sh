# card_unplug_smoke.sh (guest; with --crypto-card card0 and card_unplug_smoke.hook on the
# host): the virtio-crypto card's driver registers cbc(aes); after the host pulls the card
# out with QMP device_del, the driver leaves /proc/crypto.

driver=virtio_crypto_aes_cbc
has_driver() { grep -q "^driver *: $driver\$" /proc/crypto; }

i=0
until has_driver; do
    i=$((i + 1)); [ $i -le 100 ] || { echo "no $driver in /proc/crypto"; exit 1; }
    sleep 0.1
done
echo "card: $driver registered"

vm-signal card-ready
vm-wait-host card-pulled 120

i=0
while has_driver; do
    i=$((i + 1)); [ $i -le 300 ] || { echo "$driver still in /proc/crypto 30s after device_del"; exit 1; }
    sleep 0.1
done
echo "card: $driver gone after device_del"
