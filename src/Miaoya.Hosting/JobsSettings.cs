using Miaoya.Runner;

namespace Miaoya.Hosting;

/// <summary>
/// The <c>Jobs</c> section of the configuration: what <c>serve</c> and <c>batch</c> do with their job store.
/// <c>KeepJobs</c>: how long finished jobs (and their folders) are kept, e.g. <c>"30d"</c>, <c>"12h"</c>, or <c>"0"</c>/<c>"off"</c>
/// to keep every job (<see cref="JobRetention.TryParseKeep"/>); default <see cref="JobRetention.DefaultKeep"/>. The
/// commands' <c>--keep-jobs</c> wins over it.
/// </summary>
public sealed class JobsSettings
{
    public const string SectionName = "Jobs";

    public string? KeepJobs { get; set; }
}
