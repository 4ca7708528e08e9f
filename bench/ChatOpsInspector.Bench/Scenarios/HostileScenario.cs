using System.Net.Http.Headers;
using System.Text.Json;
using ChatOpsInspector.Bench.Harness;

namespace ChatOpsInspector.Bench.Scenarios;

/// <summary>
/// Scenario 6: every bad input gets its promised status, nothing of it is stored, the bot never answers
/// 500 and is still up afterwards; text that tries to ping or link is escaped on the card.
/// </summary>
internal static class HostileScenario
{
    public static async Task<Report> RunAsync(BenchOptions options)
    {
        var report = new Report("hostile");
        await using var rig = await Rig.StartAsync();
        rig.Slack.KeepBodies = true;
        var bot = await rig.StartBotAsync();
        using var http = Load.Client(8);

        var wrong = new List<string>();
        var corpus = HostileCorpus.Ingest();
        foreach (var c in corpus)
        {
            var status = await SendAsync(http, bot.BaseUrl, c);
            if (status != c.Expected)
            {
                wrong.Add($"{c.Name}: {status} (expected {c.Expected})");
            }
        }
        var storedAfterCorpus = await rig.StoredFindingsAsync();
        var healthy = await HealthyAsync(http, bot);

        // The same corpus again, concurrently and repeatedly: the bot must stay up under it.
        var repeat = options.Quick ? 5 : 20;
        var small = corpus.Where(c => c.Body.Length < 1024 * 1024).ToArray();
        var flood = await Load.RunAsync(small.Length * repeat, 16, TimeSpan.FromSeconds(60), i => SendAsync(http, bot.BaseUrl, small[i % small.Length]));
        var storedAfterFlood = await rig.StoredFindingsAsync();
        var healthyAfterFlood = await HealthyAsync(http, bot);

        report.Check("ingest cases answered with the promised status", $"{corpus.Count - wrong.Count}/{corpus.Count}", "all", wrong.Count == 0);
        foreach (var w in wrong)
        {
            report.Note("wrong status: " + w);
        }
        report.Check("findings stored from the corpus", storedAfterCorpus + storedAfterFlood, "0", storedAfterCorpus == 0 && storedAfterFlood == 0);
        report.Check("500 answers", flood.Count(500), "0", flood.Count(500) == 0);
        report.Add($"corpus ×{repeat}, 16 concurrent", $"{flood.Done:#,0} requests, {flood.StatusText}");
        report.Check("bot still up (/healthz, /readyz)", healthy && healthyAfterFlood ? "yes" : "no", "yes", healthy && healthyAfterFlood);

        // Injection: valid findings, stored and posted, but nothing on the card may ping or link.
        foreach (var (name, body) in HostileCorpus.Injections())
        {
            var status = await Rig.PostEventAsync(http, bot.BaseUrl, body);
            if (status != 202)
            {
                report.Note($"injection case '{name}' got {status}");
            }
        }
        var posted = await WaitAsync(() => rig.Slack.CardBodies.Count > 0, TimeSpan.FromSeconds(15));
        var leaks = rig.Slack.CardBodies.SelectMany(TextsOf).Where(t => HostileCorpus.Forbidden.Any(f => t.Contains(f, StringComparison.Ordinal))).ToArray();
        report.Check("cards carrying injected text posted", posted ? rig.Slack.CardBodies.Count : 0, "≥ 1 (needs the Slack adapter)", posted);
        report.Check("unescaped mentions/links in card text", leaks.Length, "0", leaks.Length == 0);
        foreach (var leak in leaks.Take(3))
        {
            report.Note("leaked: " + leak[..Math.Min(160, leak.Length)]);
        }
        await SlackCasesAsync(report, rig, bot, http);
        report.Check("bot process alive at the end", bot.HasExited ? "no" : "yes", "yes", !bot.HasExited);
        return report;
    }

    /// <summary>Signed-request attacks on /api/slack/*: forged, stale, replayed, oversized, malformed, injected.</summary>
    private static async Task SlackCasesAsync(Report report, Rig rig, BotProcess bot, HttpClient http)
    {
        var group = ChatOpsInspector.Alerts.GroupIds.For("app19", "CVE-2026-66666");
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var ack = "payload=" + Uri.EscapeDataString(InteractionsScenario.BlockAction("U0HOSTILE", group, "CAPP19", rig.Slack.ResponseUrl("h1"), "trig-hostile-1"));
        var auditBefore = (await InteractionsScenario.AuditAsync(rig)).Count;
        var big = "payload=" + new string('a', 300 * 1024);
        var cases = new (string Name, string Path, string Body, long Ts, string? Signature, int Expected)[]
        {
            ("forged signature (wrong secret)", "interactions", ack, now, SlackSigner.Sign(ack, now, "not-the-secret"), 401),
            ("signature of another body", "interactions", ack, now, SlackSigner.Sign(ack + "&x=1", now), 401),
            ("signed 10 minutes ago", "interactions", ack, now - 600, null, 401),
            ("signed 10 minutes in the future", "interactions", ack, now + 600, null, 401),
            ("signature without v0= prefix", "interactions", ack, now, SlackSigner.Sign(ack, now)[3..], 401),
            ("empty signature", "commands", "command=%2Fvulns&text=app19&user_id=U1", now, "", 401),
            ("signed, 300 KB body", "interactions", big, now, null, 413),
            ("signed, payload not JSON", "interactions", "payload=%7Bnot-json", now, null, 400),
            ("signed, user is a string", "interactions", "payload=" + Uri.EscapeDataString("{\"type\":\"block_actions\",\"user\":\"U1\",\"actions\":[]}"), now, null, 400),
            ("signed, slash command without user_id", "commands", "command=%2Fvulns&text=app19", now, null, 400),
            ("acknowledge (first, genuine)", "interactions", ack, now, null, 200),
            ("the same request replayed", "interactions", ack, now, null, 200),
        };
        var wrong = new List<string>();
        foreach (var c in cases)
        {
            using var request = SlackSigner.Request(bot.BaseUrl + "api/slack/" + c.Path, c.Body, c.Ts, c.Signature);
            using var response = await http.SendAsync(request);
            if ((int)response.StatusCode != c.Expected)
            {
                wrong.Add($"{c.Name}: {(int)response.StatusCode} (expected {c.Expected})");
            }
        }
        // Injection through a command: the reply must not ping or link either.
        var injected = InteractionsScenario.SlashCommand("U0HOSTILE", "<!channel> <https://evil.example/login|Click to patch>", rig.Slack.ResponseUrl("h2"), "trig-hostile-2");
        using (var request = SlackSigner.Request(bot.BaseUrl + "api/slack/commands", injected))
        using (var response = await http.SendAsync(request))
        {
            var texts = TextsOf(await response.Content.ReadAsStringAsync()).Concat(rig.Slack.ResponseUrlBodies.SelectMany(TextsOf));
            var leak = texts.FirstOrDefault(t => HostileCorpus.Forbidden.Any(f => t.Contains(f, StringComparison.Ordinal)));
            if ((int)response.StatusCode != 200 || leak is not null)
            {
                wrong.Add($"injected /vulns text: {(int)response.StatusCode}{(leak is null ? "" : ", reply leaks: " + leak[..Math.Min(100, leak.Length)])}");
            }
        }
        await Task.Delay(2000);
        var audit = (await InteractionsScenario.AuditAsync(rig)).Skip(auditBefore).ToArray();
        var acks = audit.Count(a => a.GroupId == group && a.Action.Contains("ack", StringComparison.OrdinalIgnoreCase));

        report.Check("Slack cases answered with the promised status", $"{cases.Length + 1 - wrong.Count}/{cases.Length + 1}", "all", wrong.Count == 0);
        foreach (var w in wrong)
        {
            report.Note("wrong Slack status: " + w);
        }
        report.Check("audit records from forged, stale and replayed requests", audit.Length - acks, "0", audit.Length == acks);
        report.Check("acknowledgements recorded for the genuine + replayed click", acks, "1", acks == 1);
        report.Check("bot still up after the Slack cases", await HealthyAsync(http, bot) ? "yes" : "no", "yes", await HealthyAsync(http, bot));
    }

    public static async Task<int> SendAsync(HttpClient http, string baseUrl, HostileCase c)
    {
        if (c.Chunked)
        {
            return await SendChunkedAsync(new Uri(baseUrl), c);
        }
        using var request = new HttpRequestMessage(new HttpMethod(c.Method), baseUrl + "api/inspector/events");
        if (c.Method == "POST")
        {
            HttpContent content = c.Chunked ? new StreamContent(new MemoryStream(c.Body)) : new ByteArrayContent(c.Body);
            content.Headers.ContentType = new MediaTypeHeaderValue(c.ContentType);
            request.Content = content;
            if (c.Chunked)
            {
                request.Headers.TransferEncodingChunked = true;
            }
        }
        if (c.ApiKey is not null)
        {
            request.Headers.Add("X-Api-Key", c.ApiKey);
        }
        try
        {
            using var response = await http.SendAsync(request);
            return (int)response.StatusCode;
        }
        catch (HttpRequestException)
        {
            // The server may answer 413 and close before the 10 MiB upload is finished.
            return 0;
        }
    }

    /// <summary>
    /// A chunked upload over a raw socket: the bot answers 413 and closes while the body is still being
    /// sent, which HttpClient reports as a send failure instead of the status.
    /// </summary>
    private static async Task<int> SendChunkedAsync(Uri baseUrl, HostileCase c)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(baseUrl.Host, baseUrl.Port);
        var stream = tcp.GetStream();
        var head = $"POST /api/inspector/events HTTP/1.1\r\nHost: {baseUrl.Host}:{baseUrl.Port}\r\nContent-Type: {c.ContentType}\r\nX-Api-Key: {c.ApiKey}\r\nTransfer-Encoding: chunked\r\n\r\n";
        var writer = Task.Run(async () =>
        {
            try
            {
                await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
                for (var offset = 0; offset < c.Body.Length; offset += 64 * 1024)
                {
                    var size = Math.Min(64 * 1024, c.Body.Length - offset);
                    await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"{size:x}\r\n"));
                    await stream.WriteAsync(c.Body.AsMemory(offset, size));
                    await stream.WriteAsync("\r\n"u8.ToArray());
                }
                await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
            }
        });
        var buffer = new byte[512];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (read < 12)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token);
                if (n == 0)
                {
                    break;
                }
                read += n;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
        }
        tcp.Close();
        await writer;
        var status = System.Text.Encoding.ASCII.GetString(buffer, 0, read).Split(' ');
        return status.Length > 1 && int.TryParse(status[1], out var code) ? code : 0;
    }

    public static async Task<bool> HealthyAsync(HttpClient http, BotProcess bot)
    {
        try
        {
            return (await http.GetAsync(bot.BaseUrl + "healthz")).IsSuccessStatusCode && (await http.GetAsync(bot.BaseUrl + "readyz")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public static async Task<bool> WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }
            await Task.Delay(100);
        }
        return condition();
    }

    /// <summary>Every string value in a Slack API body, decoded (JSON escapes such as \u003C undone).</summary>
    public static IEnumerable<string> TextsOf(string body)
    {
        var texts = new List<string>();
        try
        {
            using var doc = JsonDocument.Parse(body);
            Walk(doc.RootElement, texts);
        }
        catch (JsonException)
        {
            texts.Add(body);
        }
        return texts;
    }

    private static void Walk(JsonElement e, List<string> texts)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                texts.Add(e.GetString()!);
                break;
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    Walk(p.Value, texts);
                }
                break;
            case JsonValueKind.Array:
                foreach (var i in e.EnumerateArray())
                {
                    Walk(i, texts);
                }
                break;
        }
    }
}
