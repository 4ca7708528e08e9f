using System.Diagnostics;
using System.Net;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.State;

/// <summary>
/// TLS with a private CA and a password, as a self-managed Redis or MemoryDB behind a corporate CA is
/// reached: a real redis-server on a TLS-only loopback port, with a certificate signed by a CA made here.
/// </summary>
public sealed class RedisTlsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("coi-tls-").FullName;
    private Process? _server;
    private int _port;

    private string CaFile => Path.Combine(_dir, "ca.pem");

    private string Connection => $"127.0.0.1:{_port},ssl=true,abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000";

    public async Task InitializeAsync()
    {
        Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=coi-test-ca");
        Run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
        await File.WriteAllTextAsync(Path.Combine(_dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        Run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext");
        _port = RedisServer.FreePort();
        var start = new ProcessStartInfo(File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server")
        {
            ArgumentList =
            {
                "--port", "0", "--tls-port", _port.ToString(), "--bind", "127.0.0.1",
                "--tls-cert-file", Path.Combine(_dir, "server.pem"), "--tls-key-file", Path.Combine(_dir, "server.key"),
                "--tls-ca-cert-file", CaFile, "--tls-auth-clients", "no",
                "--requirepass", "tls-test-pass", "--save", "", "--appendonly", "no", "--dir", _dir,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _server = Process.Start(start)!;
        _server.OutputDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        await TestApp.Eventually(() => Task.FromResult(Run("redis-cli", ["--tls", "--cacert", CaFile, "-p", _port.ToString(), "-a", "tls-test-pass", "--no-auth-warning", "ping"], check: false).Contains("PONG", StringComparison.Ordinal)), "TLS redis-server up");
    }

    public Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            _server.WaitForExit(5000);
        }
        _server?.Dispose();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task WithTheCaFileAndPasswordTheBotIsReadyAndStores()
    {
        await using var app = new TestApp(new Dictionary<string, string?>
        {
            ["State:Redis"] = Connection,
            ["State:CaFile"] = CaFile,
            ["State:Password"] = "tls-test-pass",
            ["State:KeyPrefix"] = RedisServer.UniquePrefix(),
        });
        await TestApp.Eventually(async () => (await app.Client().GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, "ready over TLS");
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(FindingEvents.Ec2("tls-1").ToJsonString())).StatusCode);
        Assert.Single(await app.Service<ChatOpsInspector.State.IAlertStore>().OwnersAsync(default));
    }

    [Fact]
    public async Task WithoutTheCaFileTheServerIsNotTrustedAndTheBotIsNotReady()
    {
        // Same server and password: only the CA is missing, so the refusal is the untrusted certificate.
        await using var app = new TestApp(new Dictionary<string, string?>
        {
            ["State:Redis"] = Connection,
            ["State:Password"] = "tls-test-pass",
            ["State:KeyPrefix"] = RedisServer.UniquePrefix(),
        });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client().GetAsync("/readyz")).StatusCode);
        var answer = await app.PostEventsAsync(FindingEvents.Ec2("tls-2").ToJsonString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        Assert.NotNull(answer.Headers.RetryAfter);
    }

    [Fact]
    public async Task AWrongPasswordIsNotReady()
    {
        await using var app = new TestApp(new Dictionary<string, string?>
        {
            ["State:Redis"] = Connection,
            ["State:CaFile"] = CaFile,
            ["State:Password"] = "wrong-pass",
            ["State:KeyPrefix"] = RedisServer.UniquePrefix(),
        });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await app.Client().GetAsync("/readyz")).StatusCode);
    }

    private string Run(string file, params string[] arguments) => Run(file, arguments, check: true);

    private string Run(string file, string[] arguments, bool check)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit(30_000);
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed: {error.Result}");
        }
        return output.Result;
    }
}
