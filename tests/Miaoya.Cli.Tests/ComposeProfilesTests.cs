using System.Diagnostics;

namespace Miaoya.Cli.Tests;

/// <summary>
/// Which services <c>docker-compose [--profile P] up [SERVICE]</c> starts, as the installed docker-compose decides it from
/// docker-compose.yml: the smoke profile starts the mock, doctor and run alone (no GPU box, no key-less service), and the
/// commands in docs/containers.md for the GPU box and the service still start what they say.
/// </summary>
public sealed class ComposeProfilesTests
{
    [DockerComposeFact]
    public async Task SmokeProfile_StartsOnlyTheSmokeServices()
    {
        Assert.Equal(["mock-webui", "smoke-doctor", "smoke-run"], await DockerCompose.ServicesAsync(["smoke"]));
    }

    [DockerComposeFact]
    public async Task NoProfile_StartsNothing()
    {
        // Every service has a profile: a plain `docker-compose up` never starts the GPU box or the key-less service.
        Assert.Empty(await DockerCompose.ServicesAsync([]));
    }

    [DockerComposeFact]
    public async Task GpuProfile_StartsTheWebUiAndTheService()
    {
        Assert.Equal(["orchestrator", "webui"], await DockerCompose.ServicesAsync(["gpu"]));
    }

    [DockerComposeFact]
    public async Task ReadmeCommands_NamedServicesStartWithTheirDependencies()
    {
        // docker-compose up -d webui
        Assert.Equal(["webui"], await DockerCompose.ServicesAsync([], "webui"));
        // MIAOYA_API_KEY=... docker-compose up -d orchestrator
        Assert.Equal(["orchestrator", "webui"], await DockerCompose.ServicesAsync([], "orchestrator"));
        // docker-compose --profile smoke run --rm smoke-run
        Assert.Equal(["mock-webui", "smoke-doctor", "smoke-run"], await DockerCompose.ServicesAsync(["smoke"], "smoke-run"));
    }
}

/// <summary>
/// The installed docker-compose. Debian's (1.29, what .ci/run installs) is Python, and its <c>config --services</c> lists
/// every service whatever the profiles; so the services come from its own <c>Project.get_services</c>, the selection
/// <c>up</c> makes, run by its own interpreter with a stand-in for the Docker engine (there is none in CI; selecting
/// services never calls it). Compose v2 filters <c>config --services</c> by the active profiles, so there that is asked.
/// </summary>
internal static class DockerCompose
{
    /// <summary>Set to 1 (CI does) to make a missing docker-compose fail these tests instead of skipping them.</summary>
    public const string RequireVariable = "MIAOYA_REQUIRE_DOCKER_COMPOSE";

    private const string SelectServices = """
        import sys
        import docker.errors
        from compose.config import config
        from compose.config.environment import Environment
        from compose.project import Project

        class NoEngine:
            _version = "1.41"
            def __getattr__(self, name):
                def absent(*args, **kwargs):
                    raise docker.errors.NotFound("no Docker engine")
                return absent

        profiles = [p for p in sys.argv[1].split(",") if p]
        details = config.find(".", ["docker-compose.yml"], Environment.from_env_file("."))
        project = Project.from_config("miaoya", config.load(details), NoEngine(), enabled_profiles=profiles)
        print("\n".join(s.name for s in project.get_services(sys.argv[2:], include_deps=True)))
        """;

    private static readonly string Root = FindRoot();

    /// <summary>Full path of docker-compose on PATH, or null.</summary>
    public static string? Executable { get; } = Find();

    public static string? SkipReason => Executable is null && Environment.GetEnvironmentVariable(RequireVariable) != "1"
        ? $"docker-compose not found (apt-get install docker-compose); set {RequireVariable}=1 to fail instead of skipping."
        : null;

    /// <summary>The services <c>docker-compose --profile P... up [SERVICE...]</c> would start, sorted.</summary>
    public static async Task<IReadOnlyList<string>> ServicesAsync(string[] profiles, params string[] services)
    {
        var executable = Executable ?? throw new InvalidOperationException($"docker-compose is not installed ({RequireVariable}=1 requires it): apt-get install docker-compose.");
        var firstLine = File.ReadLines(executable).FirstOrDefault() ?? "";
        ProcessStartInfo start;
        if (firstLine.StartsWith("#!", StringComparison.Ordinal) && firstLine.Contains("python", StringComparison.Ordinal))
        {
            var shebang = firstLine[2..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            start = new ProcessStartInfo(shebang[0]);
            foreach (var argument in shebang.Skip(1).Concat(["-c", SelectServices, string.Join(',', profiles)]).Concat(services))
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start = new ProcessStartInfo(executable);
            foreach (var argument in profiles.SelectMany(p => new[] { "--profile", p }).Concat(["-f", "docker-compose.yml", "config", "--services"]).Concat(services))
            {
                start.ArgumentList.Add(argument);
            }
        }

        start.WorkingDirectory = Root;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.Environment.Remove("COMPOSE_PROFILES");
        start.Environment.Remove("COMPOSE_FILE");
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{start.FileName} {string.Join(' ', start.ArgumentList.Where(a => a != SelectServices))} exited {process.ExitCode}: {await error}");
        return (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal).ToList();
    }

    private static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "docker-compose"))
            .FirstOrDefault(File.Exists);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "docker-compose.yml")) && File.Exists(Path.Combine(dir.FullName, "Miaoya.Orchestrator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("repository root (docker-compose.yml) not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that needs docker-compose: skipped with the reason when it is missing, unless MIAOYA_REQUIRE_DOCKER_COMPOSE=1.</summary>
public sealed class DockerComposeFactAttribute : FactAttribute
{
    public DockerComposeFactAttribute()
    {
        if (DockerCompose.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
