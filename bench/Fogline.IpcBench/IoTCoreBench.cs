using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;
using Fogline.LocalNucleus.IoTCore;
using Fogline.Mqtt;
using Fogline.Testing;
using Fogline.ComponentKit.Processing;

namespace Fogline.IpcBench;

/// <summary>
/// <c>iotcore</c>: PublishToIoTCore (QoS 1, 256-byte payloads) from a component through the local Nucleus to the
/// cloud, with the emulated IoT Core and with a real broker (Debian's Mosquitto on loopback, mutual TLS, the ACLs of
/// the tests) in the same run: the most messages per second that reach the cloud (the component keeps 32 publishes in
/// flight; "reached": journaled by the emulated IoT Core, acknowledged with a PUBACK by the broker), and the latency
/// from the PublishToIoTCore call to a subscriber in the cloud having the message at an offered rate (100 messages/s,
/// IoT Core's per-connection limit): the emulated IoT Core's journal, or an MQTT client subscribed at the broker.
/// </summary>
internal static class IoTCoreBench
{
    private const string Topic = "things/bench/readings";
    private const int PayloadBytes = 256;

    public static async Task<int> RunAsync(string[] args)
    {
        var messages = 20_000;
        var rate = 100;
        var seconds = 10.0;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--messages": messages = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rate": rate = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--duration": seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    await Console.Error.WriteLineAsync("usage: Fogline.IpcBench iotcore [--messages 20000] [--rate 100] [--duration 10]");
                    return 2;
            }
        }

        await using var broker = await MosquittoBroker.StartAsync();
        var (certificate, key) = broker.Pki.IssueClient("bench");
        var brokerOptions = new MqttBrokerOptions
        {
            Endpoint = "127.0.0.1",
            Port = broker.Port,
            ClientId = "bench",
            CertificateFile = certificate,
            PrivateKeyFile = key,
            RootCaFile = broker.Pki.CaCertificateFile,
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PublishToIoTCore, QoS 1, {PayloadBytes}-byte payloads: {messages:N0} messages with 32 in flight for throughput; {rate} messages/s for {seconds} s for latency"));
        Console.WriteLine();
        Console.WriteLine("| cloud | messages/s reaching the cloud | p50 µs | p99 µs | max µs | samples |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, options) in new[] { ("emulated IoT Core", new IoTCoreOptions()), ($"Mosquitto 2.0, mTLS, MQTT 5", new IoTCoreOptions { Broker = brokerOptions }) })
        {
            var (throughput, latency) = await MeasureAsync(options, broker, messages, rate, seconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {throughput:N0} | {latency.PercentileMicroseconds(50):N0} | {latency.PercentileMicroseconds(99):N0} | {latency.PercentileMicroseconds(100):N0} | {latency.Count:N0} |"));
        }

        return 0;
    }

    private static async Task<(double Throughput, LatencyHistogram Latency)> MeasureAsync(IoTCoreOptions options, MosquittoBroker broker, int messages, int rate, double seconds)
    {
        var root = Directory.CreateTempSubdirectory("fogline-iotcore-bench-").FullName;
        try
        {
            await using var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root, ThingName = "bench", IoTCore = options });
            var policy = new JsonObject
            {
                ["accessControl"] = new JsonObject
                {
                    ["aws.greengrass.ipc.mqttproxy"] = new JsonObject
                    {
                        ["bench:1"] = new JsonObject { ["operations"] = new JsonArray("aws.greengrass#PublishToIoTCore"), ["resources"] = new JsonArray(Topic) },
                    },
                },
            };
            var token = nucleus.AddComponent("bench.Publisher", "1.0.0", policy).Token;
            await using var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = token });

            var latency = new LatencyHistogram();
            long arrived = 0;
            var measuring = false;
            void Arrived(ReadOnlySpan<byte> payload, long at)
            {
                Interlocked.Increment(ref arrived);
                if (Volatile.Read(ref measuring) && payload.Length >= 8)
                {
                    lock (latency)
                    {
                        latency.RecordTicks(at - BinaryPrimitives.ReadInt64LittleEndian(payload));
                    }
                }
            }

            MqttObserver? observer = null;
            if (options.Broker is null)
            {
                nucleus.IoTCore.MessageReceived += (_, entry) => Arrived(entry.Payload, Stopwatch.GetTimestamp());
            }
            else
            {
                observer = await MqttObserver.ConnectAsync(broker, Topic);
                observer.OnMessage = (_, payload, at) => Arrived(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray(), at);
                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (!nucleus.IoTCore.IsOnline && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(20);
                }
            }

            try
            {
                // Throughput: 32 publishes in flight until every message reached the cloud.
                var watch = Stopwatch.StartNew();
                var next = 0;
                long spoolFull = 0;
                async Task Publisher()
                {
                    var payload = new byte[PayloadBytes];
                    while (Interlocked.Increment(ref next) <= messages)
                    {
                        while (true)
                        {
                            BinaryPrimitives.WriteInt64LittleEndian(payload, Stopwatch.GetTimestamp());
                            try
                            {
                                await client.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = Topic, Qos = QOS.AtLeastOnce, Payload = payload });
                                break;
                            }
                            catch (ServiceException e) when (e.Message.Contains("spool is full", StringComparison.Ordinal))
                            {
                                // What a well-behaved component does when the Nucleus's spool is full: wait, then again.
                                Interlocked.Increment(ref spoolFull);
                                await Task.Delay(1);
                            }
                        }
                    }
                }

                await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(Publisher)));
                // Reached the cloud: journaled by the emulated IoT Core, acknowledged (PUBACK) by the broker.
                while (nucleus.IoTCore.Counters.Delivered < messages && watch.Elapsed < TimeSpan.FromMinutes(2))
                {
                    await Task.Delay(1);
                }

                var throughput = nucleus.IoTCore.Counters.Delivered / watch.Elapsed.TotalSeconds;
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ({(options.Broker is null ? "emulated" : "broker")}: {Interlocked.Read(ref spoolFull):N0} publishes refused with a full spool and retried)"));

                // Latency at the offered rate, paced by the clock.
                Volatile.Write(ref measuring, true);
                var start = Stopwatch.GetTimestamp();
                var count = (int)(rate * seconds);
                var payload = new byte[PayloadBytes];
                for (var i = 0; i < count; i++)
                {
                    var due = start + (long)(i * (double)Stopwatch.Frequency / rate);
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait);
                    }

                    BinaryPrimitives.WriteInt64LittleEndian(payload, Stopwatch.GetTimestamp());
                    await client.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = Topic, Qos = QOS.AtLeastOnce, Payload = payload });
                }

                var settle = DateTime.UtcNow.AddSeconds(10);
                while (latency.Count < count && DateTime.UtcNow < settle)
                {
                    await Task.Delay(10);
                }

                return (throughput, latency);
            }
            finally
            {
                if (observer is not null)
                {
                    await observer.DisposeAsync();
                }
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
