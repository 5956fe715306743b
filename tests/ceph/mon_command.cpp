// ceph_mon_command JSON...: sends each JSON monitor command to the cluster CEPH_CONF names
// (as client.admin, or CEPH_ARGS' --id) and prints the monitor's answer. Test machinery for
// cluster.sh: the `ceph` tool is a Python program, and the VM guest has no Python; this is
// the few monitor commands a one-OSD cluster needs (osd new, osd pool create), in C.
#include <rados/librados.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ceph_mon_command JSON... (the cluster: CEPH_CONF)\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);  // librados may write to a socket the monitor closed
  rados_t cluster = nullptr;
  int r = rados_create(&cluster, nullptr);
  if (r == 0) {
    rados_conf_set(cluster, "log_to_stderr", "false");
    r = rados_conf_read_file(cluster, nullptr);
  }
  if (r == 0) r = rados_conf_parse_env(cluster, nullptr);
  if (r == 0) r = rados_connect(cluster);
  if (r != 0) {
    std::fprintf(stderr, "ceph_mon_command: connect to the cluster (CEPH_CONF): %s\n", std::strerror(-r));
    return 1;
  }
  int rc = 0;
  for (int i = 1; i < argc && rc == 0; ++i) {
    const char* cmd[] = {argv[i]};
    char* out = nullptr;
    char* status = nullptr;
    size_t out_len = 0, status_len = 0;
    r = rados_mon_command(cluster, cmd, 1, "", 0, &out, &out_len, &status, &status_len);
    if (r < 0) {
      std::fprintf(stderr, "ceph_mon_command: %s: %s: %.*s\n", argv[i], std::strerror(-r), int(status_len),
                   status ? status : "");
      rc = 1;
    } else if (out_len > 0) {
      std::fwrite(out, 1, out_len, stdout);
      std::fputc('\n', stdout);
    }
    rados_buffer_free(out);
    rados_buffer_free(status);
  }
  rados_shutdown(cluster);
  return rc;
}
