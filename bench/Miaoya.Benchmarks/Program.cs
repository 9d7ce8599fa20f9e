// Benchmarks, each measured side by side in one process; medians are printed.
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- client [SAMPLES] [memory|loopback|both]     the WebUI client's own cost per V1-sized call, in memory and over loopback HTTP
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- pipeline [RUNS]      orchestration overhead of a whole V2 run
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- faceswap [RUNS]      V3 face swap pre/post-processing per stage
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- likeness [RUNS] [MODEL.onnx]  likeness scoring per 1024×1536 candidate: local work (detector pre/post, selection, warp, tensor, cosine) apart from model inference
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- jobs [JOBS] [BOXES] [on|off|both] [SIDE|WIDTHxHEIGHT] [WARMUP] [sqlite|postgres] [INSTANCES]    V2 jobs through store, worker(s), pipeline and fleet(s): makespan vs ideal, model switches, overlapping renders
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- fleet [JOBS] [MS] [SWITCH_MS]  fleet dispatch: makespan efficiency, model switches, affinity on/off
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- scale [CALLS] [MS] [BOXES,...] [REPEATS]  the fleet over 4..128 simulated boxes: dispatch overhead per call, makespan efficiency
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- hostile [N] [bomb|large|both] [worker]  miaoya serve's memory under N concurrent worst-case uploads
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- failover [REPEATS] [sqlite|postgres|both]  kill -9 of the orchestrator running a step: time until the step runs again (a clustered survivor, or a restart)
//   dotnet run -c Release --project bench/Miaoya.Benchmarks -- store-reads [JOBS] [REPEATS] [sqlite|postgres|both]  the store reads the server repeats (ETA history, queue counts, first page)
switch (args.FirstOrDefault())
{
    case "client":
        await Miaoya.Benchmarks.WebUiClientBenchmark.RunAsync(args[1..]);
        return 0;
    case "faceswap":
        Miaoya.Benchmarks.FaceSwapBenchmark.Run(args[1..]);
        return 0;
    case "likeness":
        Miaoya.Benchmarks.LikenessBenchmark.Run(args[1..]);
        return 0;
    case "fleet":
        await Miaoya.Benchmarks.FleetBenchmark.RunAsync(args[1..]);
        return 0;
    case "scale":
        await Miaoya.Benchmarks.ScaleBenchmark.RunAsync(args[1..]);
        return 0;
    case "pipeline":
        await Miaoya.Benchmarks.PipelineBenchmark.RunAsync(args[1..]);
        return 0;
    case "jobs":
        return await Miaoya.Benchmarks.JobsBenchmark.RunAsync(args[1..]);
    case "failover":
        return await Miaoya.Benchmarks.FailoverBenchmark.RunAsync(args[1..]);
    case "hostile":
        await Miaoya.Benchmarks.HostileUploadBenchmark.RunAsync(args[1..]);
        return 0;
    case "store-reads":
        await Miaoya.Benchmarks.StoreReadsBenchmark.RunAsync(args[1..]);
        return 0;
    case "client-server":
        await Miaoya.Benchmarks.WebUiClientBenchmark.ServeReplayAsync(args[1..]);
        return 0;
    case "jobs-box":
        await Miaoya.Benchmarks.JobsBenchmark.ServeBoxAsync(args[1..]);
        return 0;
    default:
        Console.Error.WriteLine("usage: dotnet run -c Release --project bench/Miaoya.Benchmarks -- client|pipeline|faceswap|likeness|fleet|scale|jobs|failover|hostile|store-reads [ARGS]");
        return 2;
}
