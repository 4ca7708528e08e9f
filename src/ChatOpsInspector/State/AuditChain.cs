using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace ChatOpsInspector.State;

/// <summary>
/// The audit hash chain. Each stored record carries the hash of its predecessor in the same stream and
/// its own: <c>hash = SHA-256(prevHash + "\n" + record)</c> over the record's stored UTF-8 JSON bytes
/// (the stored bytes are the canonical form: nothing is re-serialised to check them). The first
/// record of a stream follows <see cref="Genesis"/>. Altering, inserting or deleting a record breaks
/// the link to the next one.
/// </summary>
internal static class AuditChain
{
    public static readonly string Genesis = new('0', 64);

    public static string Hash(string prevHash, ReadOnlySpan<byte> record)
    {
        var prefix = Encoding.ASCII.GetBytes(prevHash + "\n");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(prefix);
        sha.AppendData(record);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>
    /// Re-hashes one stream's entries in order. Entries written before chaining (no hash) may only come
    /// first; after the first chained entry every entry must carry the hash of the one before it.
    /// </summary>
    public sealed class Verifier(string chain)
    {
        private string? _lastHash;
        private string? _firstId;
        private string? _firstPrev;
        private string? _lastId;
        private long _records;

        public long Unchained { get; private set; }
        public AuditBrokenLink? Broken { get; private set; }

        /// <summary>False once a link is broken: nothing after it is checked.</summary>
        public bool Add(string id, ReadOnlySpan<byte> record, string? prevHash, string? hash)
        {
            if (Broken is not null)
            {
                return false;
            }
            if (hash is null)
            {
                if (_lastHash is not null)
                {
                    Broken = new(chain, id, "record without a hash after chained records", _lastHash, null);
                    return false;
                }
                Unchained++;
                return true;
            }
            if (_lastHash is not null && !string.Equals(prevHash, _lastHash, StringComparison.Ordinal))
            {
                Broken = new(chain, id, "previous-hash does not match the record before it (a record was removed, inserted or reordered)", _lastHash, prevHash);
                return false;
            }
            var actual = Hash(prevHash ?? "", record);
            if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(actual), Encoding.ASCII.GetBytes(hash)))
            {
                Broken = new(chain, id, "record does not match its hash (it was altered)", actual, hash);
                return false;
            }
            _firstId ??= id;
            _firstPrev ??= prevHash;
            _lastId = id;
            _lastHash = hash;
            _records++;
            return true;
        }

        public AuditChainHead Head => new(chain, _firstId, _firstPrev, _lastId, _lastHash, _records);
    }

    public static AuditVerification Summarise(IReadOnlyList<Verifier> chains) => new()
    {
        Intact = chains.All(c => c.Broken is null),
        Checked = chains.Sum(c => c.Head.Records),
        Unchained = chains.Sum(c => c.Unchained),
        Chains = [.. chains.Select(c => c.Head)],
        FirstBroken = chains.Select(c => c.Broken).FirstOrDefault(b => b is not null),
    };
}

/// <summary>
/// Export paging position: per chain, the id of the last record handed out. Opaque to callers
/// (base64url of <c>chain=id</c> pairs).
/// </summary>
internal static class AuditCursor
{
    public static string Encode(IReadOnlyDictionary<string, string> positions) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join('&', positions.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value))));

    public static Dictionary<string, string>? Decode(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            return [];
        }
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            var positions = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = pair.Split('=');
                if (parts.Length != 2 || !IsStreamId(parts[1]) || parts[0].Length is 0 or > 16 || !parts[0].All(char.IsAsciiDigit))
                {
                    return null;
                }
                positions[parts[0]] = parts[1];
            }
            return positions;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public static bool IsValid(string cursor) => Decode(cursor) is not null;

    public static bool IsStreamId(string id)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && dash < id.Length - 1 && id.Length <= 41
            && id.AsSpan(0, dash).IndexOfAnyExceptInRange('0', '9') < 0 && id.AsSpan(dash + 1).IndexOfAnyExceptInRange('0', '9') < 0;
    }

    /// <summary>Stream ids compare by (milliseconds, sequence).</summary>
    public static (ulong Ms, ulong Seq) Parse(string id)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        return (ulong.Parse(id.AsSpan(0, dash), System.Globalization.CultureInfo.InvariantCulture),
            ulong.Parse(id.AsSpan(dash + 1), System.Globalization.CultureInfo.InvariantCulture));
    }
}
