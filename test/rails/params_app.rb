# The oracle of test/rails/params.test.ts: the installed Rails (Debian's ruby-actionpack 6.1 on
# ruby-rack 2.2) reading request parameters, so the gateway's TypeScript port is checked against
# Rails itself. The stack is what reads parameters in a Rails app: Rack::MethodOverride (in every
# non-API app's middleware; it parses a POST body first, by Rack's rules) in front of
# ActionDispatch::Request#parameters. The server is a few lines over TCPServer, so the test controls
# the framing byte for byte; a chunked body gets CONTENT_LENGTH once decoded, as Puma does.
#
# Each request is answered 200 with JSON: { ok: true, action, params, targets } or
# { ok: false, status, error } where status is what Rails would answer for the exception.
# Strings that are not UTF-8 show each bad byte as the lone surrogate U+DC80+byte; a Float is the
# text of Float#to_s; an uploaded file is { filename, type }. Prints "listening <port>" when ready.
require 'socket'
require 'stringio'
require 'logger'
begin
  require 'rack'
  require 'action_dispatch'
  require 'action_dispatch/middleware/exception_wrapper'
rescue LoadError => e
  warn "params_app: #{e.message}"
  exit 3
end

MAX_ID = 2_147_483_647
QUIET = Logger.new(IO::NULL)

# The target rule of src/legacy/writes.ts, read from Rails' own params.
def target(value)
  id = if value.is_a?(Integer) then value
       elsif value.is_a?(String) && value.match?(/\A[0-9]+\z/) then value.to_i
       end
  id if id && id.between?(0, MAX_ID)
end

def json_char(char)
  case char
  when '"' then '\\"'
  when '\\' then '\\\\'
  when /[\x00-\x1f]/ then format('\\u%04x', char.ord)
  else char
  end
end

def json_string(text)
  text = text.dup.force_encoding(Encoding::ISO_8859_1) if text.encoding == Encoding::ASCII_8BIT
  text = text.encode(Encoding::UTF_8) if text.encoding == Encoding::ISO_8859_1
  return "\"#{text.gsub(/["\\\x00-\x1f]/) { |c| json_char(c) }}\"" if text.encoding == Encoding::UTF_8 && text.valid_encoding?

  bytes = text.b
  out = +'"'
  i = 0
  while i < bytes.bytesize
    char = nil
    (1..4).each do |n|
      candidate = bytes.byteslice(i, n).force_encoding(Encoding::UTF_8)
      if candidate.bytesize == n && candidate.valid_encoding? && candidate.length == 1
        char = candidate
        break
      end
    end
    if char
      out << json_char(char)
      i += char.bytesize
    else
      out << format('\\u%04x', 0xDC00 + bytes.getbyte(i))
      i += 1
    end
  end
  out << '"'
end

def json(value)
  case value
  when Hash then "{#{value.map { |k, v| "#{json_string(k.to_s)}:#{json(v)}" }.join(',')}}"
  when Array then "[#{value.map { |v| json(v) }.join(',')}]"
  when String then json_string(value)
  when Float then json_string(value.to_s)
  when Integer, true, false then value.to_s
  when nil then 'null'
  when ActionDispatch::Http::UploadedFile
    json({ 'filename' => value.original_filename, 'type' => value.content_type })
  else json_string("#<#{value.class}>")
  end
end

ENDPOINT = lambda do |env|
  params = ActionDispatch::Request.new(env).parameters
  action = env['PATH_INFO'].split('/').last.to_s
  targets = { 'user_id' => target(params['user_id']), 'device' => target(params['device']) }
  [200, {}, [json({ 'ok' => true, 'action' => action, 'params' => params, 'targets' => targets })]]
end
APP = Rack::MethodOverride.new(ENDPOINT)

def answer(env)
  APP.call(env)[2].join
rescue StandardError => e
  status = ActionDispatch::ExceptionWrapper.status_code_for_exception(e.class.name)
  json({ 'ok' => false, 'status' => status, 'error' => e.class.name })
ensure
  env['rack.tempfiles']&.each(&:close!)
end

def read_chunked(sock)
  body = +''.b
  loop do
    size = sock.gets("\r\n").to_s.split(';', 2).first.to_i(16)
    break if size.zero?

    body << sock.read(size)
    sock.read(2)
  end
  nil while (line = sock.gets("\r\n")) && line != "\r\n"
  body
end

def env_for(method, target, headers, port)
  path, query = target.split('?', 2)
  env = {
    'REQUEST_METHOD' => method, 'PATH_INFO' => path, 'QUERY_STRING' => query.to_s, 'SCRIPT_NAME' => '',
    'SERVER_NAME' => '127.0.0.1', 'SERVER_PORT' => port.to_s, 'SERVER_PROTOCOL' => 'HTTP/1.1',
    'rack.version' => [1, 3], 'rack.url_scheme' => 'http', 'rack.errors' => StringIO.new,
    'rack.multithread' => true, 'rack.multiprocess' => false, 'rack.run_once' => false,
    'action_dispatch.logger' => QUIET
  }
  headers.each do |name, value|
    case name
    when 'content-type' then env['CONTENT_TYPE'] = value
    when 'content-length' then env['CONTENT_LENGTH'] = value
    else env["HTTP_#{name.upcase.tr('-', '_')}"] = value
    end
  end
  env
end

def serve(sock, port)
  sock.binmode
  while (line = sock.gets("\r\n"))
    method, target = line.chomp("\r\n").split(' ', 3)
    headers = []
    while (header = sock.gets("\r\n")) && header != "\r\n"
      name, value = header.chomp("\r\n").split(':', 2)
      headers << [name.downcase, value.to_s.gsub(/\A[ \t]+|[ \t]+\z/, '')]
    end
    env = env_for(method, target, headers, port)
    body = if headers.any? { |n, v| n == 'transfer-encoding' && v.downcase == 'chunked' }
             read_chunked(sock).tap { |b| env['CONTENT_LENGTH'] = b.bytesize.to_s }
           elsif env['CONTENT_LENGTH']
             sock.read(env['CONTENT_LENGTH'].to_i)
           else
             +''.b
           end
    env['rack.input'] = StringIO.new(body)
    payload = answer(env)
    sock.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: #{payload.bytesize}\r\n\r\n#{payload}")
  end
rescue IOError, SystemCallError
  nil
ensure
  sock.close
end

server = TCPServer.new('127.0.0.1', 0)
port = server.addr[1]
$stdout.puts "listening #{port}"
$stdout.flush
loop { Thread.new(server.accept) { |sock| serve(sock, port) } }
