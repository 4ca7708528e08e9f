using System.Globalization;
using System.Text.RegularExpressions;
using ChatOpsInspector.Sla;

namespace ChatOpsInspector.Commands;

internal enum CommandKind
{
    Help,
    Owner,
    Mine,
    Show,
    Sla,
    Stats,
    Coverage,
    Report,
    Acknowledge,
    Assign,
    Suppress,
    RequestPatch,

    /// <summary>Unknown subcommand or bad arguments: <see cref="ParsedCommand.Error"/> says what, <see cref="ParsedCommand.Usage"/> how.</summary>
    Invalid,
}

/// <summary>A person named in a command: a platform user id (Slack <c>&lt;@U…&gt;</c>), a name, or an e-mail.</summary>
internal sealed record UserReference(string? Id, string? Name, string? Email);

/// <summary>The <c>/vulns</c> command line, understood but not yet run. Platform-neutral.</summary>
internal sealed record ParsedCommand(CommandKind Kind)
{
    /// <summary>Owner (application) name for <c>NAME</c>, <c>sla</c>, <c>stats</c>, <c>coverage</c>.</summary>
    public string? Owner { get; init; }

    /// <summary>For <c>report</c>: the month (UTC) to report; null for the current one.</summary>
    public ReportMonth? Month { get; init; }

    /// <summary>Group id or vulnerability id (CVE) for <c>show</c>, <c>ack</c>, <c>assign</c>, <c>suppress</c>, <c>patch</c>.</summary>
    public string? Target { get; init; }

    public UserReference? Assignee { get; init; }

    /// <summary>For <c>suppress</c>: a duration (<c>30d</c>, <c>2w</c>)…</summary>
    public TimeSpan? SuppressFor { get; init; }

    /// <summary>…or an end date (<c>2026-12-31</c>, end of that day UTC).</summary>
    public DateTimeOffset? SuppressUntil { get; init; }

    public string? Reason { get; init; }

    /// <summary><c>--share</c>: answer in the channel instead of only to the person who asked.</summary>
    public bool Share { get; init; }

    public string? Error { get; init; }
    public string? Usage { get; init; }

    /// <summary>True for commands that change an alert (they go through the durable work queue).</summary>
    public bool ChangesState => Kind is CommandKind.Acknowledge or CommandKind.Assign or CommandKind.Suppress or CommandKind.RequestPatch;

    /// <summary>True for commands that may need a slow external call.</summary>
    public bool IsSlow => Kind is CommandKind.Coverage or CommandKind.Report;
}

/// <summary>Parses the text after <c>/vulns</c> (or after a bot mention). Never throws.</summary>
internal static partial class CommandParser
{
    public const int MaxSuppressDays = 365;
    public const int MaxReasonLength = 500;

    public static class Usages
    {
        public const string Show = "show CVE-…|ID";
        public const string Ack = "ack ID";
        public const string Assign = "assign ID @person";
        public const string Suppress = "suppress ID 7d|30d|90d|YYYY-MM-DD reason…";
        public const string Patch = "patch ID";
        public const string Owner = "NAME";
        public const string Report = "report [NAME] [YYYY-MM]";
    }

    private static readonly string[] Subcommands = ["help", "mine", "show", "sla", "stats", "coverage", "report", "ack", "assign", "suppress", "patch"];

    public static ParsedCommand Parse(string? text)
    {
        var tokens = Tokenize(text ?? "");
        var share = tokens.RemoveAll(t => t.Equals("--share", StringComparison.OrdinalIgnoreCase)) > 0;
        // Messages and mentions say "vulns my-app" where the slash command says "my-app".
        if (tokens.Count > 0 && tokens[0].TrimStart('/').Equals("vulns", StringComparison.OrdinalIgnoreCase))
        {
            tokens.RemoveAt(0);
        }
        if (tokens.Count == 0)
        {
            return new ParsedCommand(CommandKind.Help) { Share = share };
        }
        var verb = tokens[0].ToLowerInvariant();
        var args = tokens.Skip(1).ToList();
        var parsed = verb switch
        {
            "help" or "?" or "-h" or "--help" => new ParsedCommand(CommandKind.Help),
            "mine" => NoArgs(CommandKind.Mine, "mine", args),
            "show" => Target(CommandKind.Show, Usages.Show, args, exactly: true),
            "sla" => OptionalOwner(CommandKind.Sla, "sla [NAME]", args),
            "stats" => OptionalOwner(CommandKind.Stats, "stats [NAME]", args),
            "coverage" => OptionalOwner(CommandKind.Coverage, "coverage [NAME]", args),
            "report" => Report(args),
            "ack" or "acknowledge" => Target(CommandKind.Acknowledge, Usages.Ack, args, exactly: true),
            "assign" => Assign(args),
            "suppress" => Suppress(args),
            "patch" => Target(CommandKind.RequestPatch, Usages.Patch, args, exactly: true),
            _ when args.Count == 0 && IsName(tokens[0]) => new ParsedCommand(CommandKind.Owner) { Owner = tokens[0] },
            _ when IsName(tokens[0]) => Invalid(
                $"Unexpected `{Clip(args[0])}` after `{Clip(tokens[0])}`: an application name stands alone (`{Clip(tokens[0])}`), or use a command such as `sla {Clip(tokens[0])}`.",
                "help"),
            _ => Invalid($"I don't know `{Clip(tokens[0])}`.", "help"),
        };
        return parsed with { Share = share };
    }

    private static ParsedCommand NoArgs(CommandKind kind, string usage, List<string> args) =>
        args.Count == 0 ? new ParsedCommand(kind) : Invalid($"`{usage}` takes no arguments.", usage);

    private static ParsedCommand OptionalOwner(CommandKind kind, string usage, List<string> args) => args.Count switch
    {
        0 => new ParsedCommand(kind),
        1 when IsName(args[0]) => new ParsedCommand(kind) { Owner = args[0] },
        _ => Invalid("Give at most one application name.", usage),
    };

    /// <summary><c>report</c>, <c>report NAME</c>, <c>report 2026-11</c>, <c>report NAME 2026-11</c>.</summary>
    private static ParsedCommand Report(List<string> args)
    {
        if (args.Count > 2)
        {
            return Invalid($"Unexpected `{Clip(args[2])}`.", Usages.Report);
        }
        var command = new ParsedCommand(CommandKind.Report);
        foreach (var arg in args)
        {
            if (LooksLikeMonth(arg))
            {
                if (command.Month is not null || !ReportMonth.TryParse(arg, out var month))
                {
                    return Invalid($"`{Clip(arg)}` is not a month: use YYYY-MM, e.g. 2026-11.", Usages.Report);
                }
                command = command with { Month = month };
            }
            else if (command.Owner is null && command.Month is null && IsName(arg))
            {
                command = command with { Owner = arg };
            }
            else
            {
                return Invalid($"Unexpected `{Clip(arg)}`.", Usages.Report);
            }
        }
        return command;
    }

    private static bool LooksLikeMonth(string text) => MonthLike().IsMatch(text);

    private static ParsedCommand Target(CommandKind kind, string usage, List<string> args, bool exactly)
    {
        if (args.Count == 0)
        {
            return Invalid("Say which alert: a group id (as on the card) or a CVE id.", usage);
        }
        if (exactly && args.Count > 1)
        {
            return Invalid($"Unexpected `{Clip(args[1])}`.", usage);
        }
        return IsTarget(args[0])
            ? new ParsedCommand(kind) { Target = args[0] }
            : Invalid($"`{Clip(args[0])}` is not a group id or a vulnerability id.", usage);
    }

    private static ParsedCommand Assign(List<string> args)
    {
        if (args.Count != 2)
        {
            return Invalid(args.Count < 2 ? "Say which alert and who to assign." : $"Unexpected `{Clip(args[2])}`.", Usages.Assign);
        }
        var target = Target(CommandKind.Assign, Usages.Assign, args[..1], exactly: true);
        if (target.Kind == CommandKind.Invalid)
        {
            return target;
        }
        var person = ParseUser(args[1]);
        return person is null
            ? Invalid($"`{Clip(args[1])}` is not a person: mention them with @.", Usages.Assign)
            : target with { Assignee = person };
    }

    private static ParsedCommand Suppress(List<string> args)
    {
        if (args.Count < 3)
        {
            return Invalid("Say which alert, for how long, and why.", Usages.Suppress);
        }
        var target = Target(CommandKind.Suppress, Usages.Suppress, args[..1], exactly: true);
        if (target.Kind == CommandKind.Invalid)
        {
            return target;
        }
        var reason = string.Join(' ', args.Skip(2));
        if (reason.Length > MaxReasonLength)
        {
            return Invalid($"Keep the reason under {MaxReasonLength} characters.", Usages.Suppress);
        }
        var duration = DurationPattern().Match(args[1]);
        if (duration.Success)
        {
            var n = int.Parse(duration.Groups["n"].Value, CultureInfo.InvariantCulture);
            var days = duration.Groups["unit"].Value.Equals("w", StringComparison.OrdinalIgnoreCase) ? n * 7 : n;
            return days is < 1 or > MaxSuppressDays
                ? Invalid($"Suppress for 1 to {MaxSuppressDays} days.", Usages.Suppress)
                : target with { SuppressFor = TimeSpan.FromDays(days), Reason = reason };
        }
        if (DateTime.TryParseExact(args[1], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            var endOfDay = new DateTimeOffset(date.Date.AddDays(1).AddTicks(-1), TimeSpan.Zero);
            return target with { SuppressUntil = endOfDay, Reason = reason };
        }
        return Invalid($"`{Clip(args[1])}` is not a duration (7d, 30d, 90d) or a date (YYYY-MM-DD).", Usages.Suppress);
    }

    /// <summary>Slack sends <c>&lt;@U123|name&gt;</c> for mentions when the command escapes them; e-mails may come as <c>&lt;mailto:a@b|a@b&gt;</c>.</summary>
    public static UserReference? ParseUser(string token)
    {
        var mention = SlackMention().Match(token);
        if (mention.Success)
        {
            var name = mention.Groups["name"].Success ? mention.Groups["name"].Value : null;
            return new UserReference(mention.Groups["id"].Value, string.IsNullOrEmpty(name) ? null : name, null);
        }
        var mail = MailtoLink().Match(token);
        if (mail.Success)
        {
            return new UserReference(null, null, mail.Groups["mail"].Value);
        }
        if (EmailPattern().IsMatch(token))
        {
            return new UserReference(null, null, token);
        }
        if (UserIdPattern().IsMatch(token))
        {
            return new UserReference(token, null, null);
        }
        if (token.Length > 1 && token[0] == '@' && IsName(token[1..]))
        {
            return new UserReference(null, token[1..], null);
        }
        return null;
    }

    public static bool IsSubcommand(string word) => Subcommands.Contains(word, StringComparer.OrdinalIgnoreCase);

    private static bool IsName(string text) => text.Length is > 0 and <= 64 && NamePattern().IsMatch(text) && !IsSubcommand(text);

    private static bool IsTarget(string text) => text.Length <= 100 && TargetPattern().IsMatch(text);

    private static ParsedCommand Invalid(string error, string usage) => new(CommandKind.Invalid) { Error = error, Usage = usage };

    /// <summary>Echoed input is clipped so a pasted essay does not come back whole.</summary>
    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static List<string> Tokenize(string text) =>
        text.Replace('\u00a0', ' ').Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    [GeneratedRegex(@"^\d{4}-\d{1,2}$")]
    private static partial Regex MonthLike();

    [GeneratedRegex(@"^(?<n>\d{1,4})(?<unit>[dDwW])$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"^<@(?<id>[UW][A-Z0-9]{2,20})(\|(?<name>[^>]{0,80}))?>$")]
    private static partial Regex SlackMention();

    [GeneratedRegex(@"^<mailto:(?<mail>[^|>@\s]+@[^|>\s]+)(\|[^>]*)?>$")]
    private static partial Regex MailtoLink();

    [GeneratedRegex(@"^[^@\s<>|]+@[^@\s<>|]+\.[^@\s<>|]+$")]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^[UW][A-Z0-9]{6,20}$")]
    private static partial Regex UserIdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
    private static partial Regex TargetPattern();
}
