namespace Fogline.LocalCloud.Http;

/// <summary>The services of the local cloud, told apart by the SigV4 scope of a request (or its shape when unsigned).</summary>
public enum CloudService
{
    /// <summary>Amazon S3 (signing name <c>s3</c>).</summary>
    S3,

    /// <summary>AWS STS (<c>sts</c>, query protocol).</summary>
    Sts,

    /// <summary>AWS IoT Greengrass V2 (<c>greengrass</c>, rest-json).</summary>
    GreengrassV2,

    /// <summary>AWS IoT control plane (<c>execute-api</c> as botocore signs it, or <c>iot</c>; rest-json).</summary>
    Iot,

    /// <summary>The AWS IoT data plane (<c>iotdata</c>, rest-json): retained messages.</summary>
    IotData,
}
