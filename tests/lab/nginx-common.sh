# Sourced by the lab's nginx scripts: the top of an nginx.conf that keeps everything (pid, logs,
# temporary files) under one lab folder and runs as root when started by root (CI).
#   nginx_preamble DIR    prints the lines up to and including "http {"
nginx_preamble() {
  local dir=$1 user=""
  [ "$(id -u)" -eq 0 ] && user="user root;"
  cat <<CONF
$user
worker_processes 1;
error_log $dir/logs/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 256; }
http {
  access_log $dir/logs/access.log;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
CONF
}
