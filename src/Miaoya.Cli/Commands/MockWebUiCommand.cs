using System.CommandLine;
using Miaoya.MockWebUi;

namespace Miaoya.Cli.Commands;

/// <summary><c>miaoya mock-webui</c>: a stand-in WebUI for smoke tests, with WireMock's admin API at /__admin.</summary>
internal static class MockWebUiCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port to listen on (0 = any free port)", DefaultValueFactory = _ => 7860 };
        port.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 65535)
            {
                r.AddError("--port: must be between 0 and 65535.");
            }
        });
        var profile = CliOptions.Profile();
        var latency = CliOptions.DurationOption("--latency", "Time every generation call takes, e.g. 2s", TimeSpan.Zero);
        var failRate = new Option<double>("--fail-rate") { Description = "Fraction (0..1) of generation calls answered with HTTP 500", DefaultValueFactory = _ => 0 };
        failRate.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is < 0 or > 1 or double.NaN)
            {
                r.AddError("--fail-rate: must be between 0 and 1.");
            }
        });
        var auth = CliOptions.Auth();
        var listen = new Option<bool>("--listen") { Description = "Listen on all interfaces instead of loopback only (as the WebUI's --listen)" };
        var seed = new Option<int?>("--seed") { Description = "Seed for the fail-rate decisions, for repeatable runs" };
        var without = new Option<string[]>("--without")
        {
            Description = "What the box lacks (repeatable): controlnet, tagger, rembg, evaclip (PuLID's EVA-CLIP extension), insightface (FaceID/InstantID/PuLID fail), or a checkpoint, LoRA, embedding or ControlNet model name",
            HelpName = "NAME",
        };
        var units = new Option<int>("--controlnet-units")
        {
            Description = "ControlNet unit slots (control_net_unit_count, 1..10): what /controlnet/settings reports; units past it are not read",
            DefaultValueFactory = _ => 3,
            HelpName = "N",
        };
        units.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 10)
            {
                r.AddError("--controlnet-units: must be between 1 and 10.");
            }
        });
        var loraDir = new Option<DirectoryInfo?>("--lora-dir") { Description = "A LoRA folder: its *.safetensors are listed after POST /sdapi/v1/refresh-loras (as models/Lora)" };

        var command = new Command("mock-webui", "Run a mock AUTOMATIC1111 WebUI (ControlNet, WD14 tagger, rembg) until Ctrl+C.")
        {
            port, profile, latency, failRate, auth, listen, seed, without, units, loraDir,
        };
        command.Options.Add(CliOptions.AuthFile());
        var recordFrom = MockWebUiRecording.RecordFrom();
        var recordDir = MockWebUiRecording.RecordDir();
        var replay = MockWebUiRecording.Replay();
        command.Options.Add(recordFrom);
        command.Options.Add(recordDir);
        command.Options.Add(replay);
        command.Validators.Add(r => MockWebUiRecording.Validate(r, recordFrom, recordDir, replay, profile));
        command.SetAction(async (result, cancellationToken) =>
        {
            if (result.GetValue(recordFrom) is { } upstream)
            {
                // --auth here is what the proxy sends to the real box (when the client sends no Authorization of its own).
                return await MockWebUiRecording.RecordAsync(upstream, result.GetValue(recordDir)!.FullName, CliOptions.Credentials(result, useVariable: true),
                    result.GetValue(port), result.GetValue(listen), cancellationToken);
            }

            if (result.GetValue(replay) is { } recording)
            {
                return await MockWebUiRecording.ReplayAsync(recording.FullName, result.GetValue(port), result.GetValue(listen), cancellationToken);
            }

            var options = new MockWebUiOptions
            {
                Port = result.GetValue(port),
                Profile = result.GetValue(profile),
                Latency = result.GetValue(latency),
                FailRate = result.GetValue(failRate),
                Auth = CliOptions.Credentials(result, useVariable: false),
                ListenOnAllInterfaces = result.GetValue(listen),
                Seed = result.GetValue(seed),
                LoraDirectory = result.GetValue(loraDir)?.FullName,
                ControlNetUnitCount = result.GetValue(units),
            };
            foreach (var name in result.GetValue(without) ?? [])
            {
                options.Without.Add(name);
            }

            MockWebUiServer server;
            try
            {
                server = MockWebUiServer.Start(options);
            }
            catch (WireMock.Exceptions.WireMockException e)
            {
                var inUse = e.GetBaseException() is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse }
                    || e.ToString().Contains("address already in use", StringComparison.OrdinalIgnoreCase);
                await Console.Error.WriteLineAsync(inUse
                    ? $"mock-webui: --port {options.Port}: the address is already in use; stop what listens there or choose another port (0 = any free port)."
                    : $"mock-webui: cannot start: {e.GetBaseException().Message}");
                return 2;
            }

            using var owned = server;
            Console.WriteLine($"Mock WebUI ({ProfileName(server.Profile)}) listening on {server.Url}");
            Console.WriteLine($"  try: curl {server.Url}sdapi/v1/sd-models");
            Console.WriteLine($"  requests received: {server.Url}__admin/requests");
            Console.WriteLine("Press Ctrl+C to stop.");
            // Until Ctrl+C; after a burst of requests (base64 images in and out) memory goes back once it is quiet for 10 s.
            await Miaoya.Imaging.ImageMemory.GiveBackWhenIdleAsync(() => (server.RequestCount, false), TimeSpan.FromSeconds(10), cancellationToken);
            Console.WriteLine("Stopped.");

            return 0;
        });
        return command;
    }

    public static string ProfileName(MockWebUiProfile profile) => profile switch
    {
        MockWebUiProfile.WebUi18 => "webui-1.8",
        MockWebUiProfile.Forge => "forge",
        MockWebUiProfile.ReForge => "reforge",
        MockWebUiProfile.SdNext => "sdnext",
        _ => "webui-1.10",
    };
}
