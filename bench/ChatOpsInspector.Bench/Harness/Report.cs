using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// What one scenario measured: rows of (metric, value, goal, verdict), printed as a markdown table and
/// written to bench/results/SCENARIO.json with the machine it ran on.
/// </summary>
internal sealed class Report(string scenario)
{
    private readonly List<Row> _rows = [];
    private readonly List<string> _notes = [];
    private readonly string _loadBefore = LoadAverage();
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    public string Scenario => scenario;

    public bool Failed => _rows.Any(r => r.Met == false);

    /// <summary>A measured figure; <paramref name="met"/> null when it has no goal.</summary>
    public void Add(string metric, object value, string goal = "", bool? met = null) =>
        _rows.Add(new Row(metric, Format(value), goal, met));

    public void Check(string metric, object value, string goal, bool met) => Add(metric, value, goal, met);

    public void Note(string text)
    {
        _notes.Add(text);
        Console.WriteLine("  · " + text);
    }

    public void AddLoad(string prefix, LoadResult r)
    {
        Add($"{prefix} requests", r.Done);
        Add($"{prefix} throughput (req/s)", Math.Round(r.PerSecond));
        Add($"{prefix} p50 / p90 / p99 / max (ms)", $"{r.Ms(0.50):0.0} / {r.Ms(0.90):0.0} / {r.Ms(0.99):0.0} / {r.MaxMs:0.0}");
        Add($"{prefix} statuses", r.StatusText);
    }

    private static string Format(object value) => value switch
    {
        double d => d.ToString(d >= 100 ? "#,0" : "0.###", CultureInfo.InvariantCulture),
        float f => ((double)f).ToString("0.###", CultureInfo.InvariantCulture),
        long l => l.ToString("#,0", CultureInfo.InvariantCulture),
        int i => i.ToString("#,0", CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"### {scenario}  ({_started:yyyy-MM-dd HH:mm} UTC)");
        sb.AppendLine();
        sb.AppendLine("| metric | measured | goal | |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var r in _rows)
        {
            var verdict = r.Met switch { true => "met", false => "**missed**", null => "" };
            sb.AppendLine($"| {r.Metric} | {r.Value} | {r.Goal} | {verdict} |");
        }
        sb.AppendLine();
        sb.AppendLine($"Machine: {Machine()}; load average before {_loadBefore}, after {LoadAverage()}.");
        foreach (var n in _notes)
        {
            sb.AppendLine($"- {n}");
        }
        return sb.ToString();
    }

    public void Write()
    {
        var md = Markdown();
        Console.WriteLine();
        Console.WriteLine(md);
        var json = new JsonObject
        {
            ["scenario"] = scenario,
            ["startedUtc"] = _started.ToString("O"),
            ["machine"] = Machine(),
            ["loadBefore"] = _loadBefore,
            ["loadAfter"] = LoadAverage(),
            ["rows"] = new JsonArray(_rows.Select(r => (JsonNode)new JsonObject
            {
                ["metric"] = r.Metric,
                ["value"] = r.Value,
                ["goal"] = r.Goal,
                ["met"] = r.Met,
            }).ToArray()),
            ["notes"] = new JsonArray(_notes.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray()),
        };
        var dir = Paths.Results;
        File.WriteAllText(Path.Combine(dir, scenario + ".json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllText(Path.Combine(dir, scenario + ".md"), md);
        Console.WriteLine($"written: bench/results/{scenario}.json");
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    public static string Machine()
    {
        var cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }
        var memGiB = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{Environment.ProcessorCount} cores ({cpu}), {memGiB:0} GiB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {RedisVersion()}";
    }

    private static string RedisVersion()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(Paths.Redis, "--version") { RedirectStandardOutput = true })!;
            var text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            var v = text.Split(' ').FirstOrDefault(t => t.StartsWith("v=", StringComparison.Ordinal));
            return "redis " + (v?[2..] ?? "?");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "redis not found";
        }
    }

    private sealed record Row(string Metric, string Value, string Goal, bool? Met);
}
