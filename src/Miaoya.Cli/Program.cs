return await Miaoya.Cli.CliApp.RunAsync(args);
